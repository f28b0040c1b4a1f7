#!/usr/bin/env node
// Compiles src/ to JavaScript in dist/ so that `entitle` starts without compiling TypeScript:
// tsc with tsconfig.build.json (tests left out), then the files the code reads beside itself
// (page templates, the stylesheet, migrations) copied alongside, then a stamp that bin/entitle.js
// compares with the sources. `npm install` and `npm ci` run it (the prepare script). Without
// TypeScript (an install without dev dependencies) it builds nothing and says so: the command then
// runs the sources through tsx, as it does whenever a source is newer than the build.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.log('entitle: TypeScript is not installed, so nothing was built: the command runs the sources through tsx');
  process.exit(0);
}

const started = Date.now();
rmSync(dist, { recursive: true, force: true });
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compiled.status !== 0) {
  rmSync(dist, { recursive: true, force: true });
  console.error('entitle: the build failed (above); the command runs the sources through tsx until it is fixed');
  process.exit(compiled.status ?? 1);
}
for (const entry of readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || entry.name.endsWith('.ts')) continue;
  const from = join(entry.parentPath ?? entry.path, entry.name);
  const to = join(dist, from.slice(join(root, 'src').length));
  if (from.includes(`${join('rules', 'compiler', 'fixtures')}`)) continue;
  cpSync(from, to);
}
if (!existsSync(join(dist, 'cli', 'main.js'))) {
  console.error('entitle: the build made no dist/cli/main.js');
  process.exit(1);
}
writeFileSync(join(dist, 'BUILT'), `${new Date().toISOString()}\n`);
console.log(`entitle: built dist/ from src/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
