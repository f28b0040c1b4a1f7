#!/usr/bin/env node
// The `entitle` command. `npm install` compiles the sources to dist/ (scripts/build.js, the
// prepare script) and the command runs that JavaScript, which starts in a fraction of a second.
// The container image has the build and no sources, so it always runs the build. Elsewhere,
// when src/ is not exactly what the build was made from, or there is no build, or
// ENTITLE_FROM_SOURCES=1 (the tests set it), it runs the TypeScript sources through tsx's loader
// instead: the same code, compiled as it loads, so slower to start.
import { existsSync, readFileSync } from 'node:fs';
import { sourceManifest } from './sources.js';

/**
 * Whether dist/ was built from src/ exactly as it is now (bin/sources.js), or is all there is:
 * the container image ships the build without the sources.
 */
function buildIsCurrent() {
  try {
    const built = readFileSync(new URL('../dist/BUILT', import.meta.url), 'utf8');
    return !existsSync(new URL('../src', import.meta.url)) || built === sourceManifest();
  } catch {
    return false;
  }
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
