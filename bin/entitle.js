#!/usr/bin/env node
// The `entitle` command. `npm install` compiles the sources to dist/ (scripts/build.js, the
// prepare script) and the command runs that JavaScript, which starts in a fraction of a second.
// When a source file is newer than the build, or there is no build, or ENTITLE_FROM_SOURCES=1 (the
// tests set it), it runs the TypeScript sources through tsx's loader instead: the same code,
// compiled as it loads, so slower to start.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Whether dist/ was built after every file under src/ last changed. */
function buildIsCurrent() {
  const src = fileURLToPath(new URL('../src', import.meta.url));
  let built;
  try {
    built = statSync(fileURLToPath(new URL('../dist/BUILT', import.meta.url))).mtimeMs;
  } catch {
    return false;
  }
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.test.ts')) continue;
    if (statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs > built) return false;
  }
  return true;
}

let run;
const fromBuild = process.env.ENTITLE_FROM_SOURCES !== '1' && buildIsCurrent();
// ENTITLE_DEBUG says which ran: CI checks that an installed command runs its build.
if (process.env.ENTITLE_DEBUG)
  process.stderr.write(`entitle: running ${fromBuild ? 'the build in dist/' : 'the sources'}\n`);
if (fromBuild) {
  ({ run } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ run } = await import('../src/cli/main.ts'));
}
process.exitCode = await run(process.argv.slice(2));
