#!/usr/bin/env node
// Compiles src/ to JavaScript in dist/ so that `entitle` starts without compiling TypeScript:
// tsc with tsconfig.build.json (tests left out), then the files the code reads beside itself
// (page templates, the stylesheet, migrations) copied alongside, then dist/BUILT: the manifest of
// the sources as they were before compiling (bin/sources.js), which bin/entitle.js compares with
// src/ at each start. `npm install` and `npm ci` run it (the prepare script); a failed build fails
// the install, so a broken build is never taken for a working one. Without TypeScript (an install
// without dev dependencies) it builds nothing and says so: the command then runs the sources
// through tsx, as it does whenever src/ differs from what the build was made from.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceManifest } from '../bin/sources.js';

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
// Taken before compiling: a file saved while tsc runs makes the build out of date, as it is.
const manifest = sourceManifest();
rmSync(dist, { recursive: true, force: true });
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compiled.status !== 0) {
  rmSync(dist, { recursive: true, force: true });
  console.error('entitle: the build failed (above): fix it and run npm run build');
  process.exit(compiled.status ?? 1);
}
for (const line of manifest.trim().split('\n')) {
  const path = line.split('\t')[0];
  if (path.endsWith('.ts') || path.startsWith(join('rules', 'compiler', 'fixtures'))) continue;
  cpSync(join(root, 'src', path), join(dist, path));
}
if (!existsSync(join(dist, 'cli', 'main.js'))) {
  console.error('entitle: the build made no dist/cli/main.js');
  process.exit(1);
}
writeFileSync(join(dist, 'BUILT'), manifest);
console.log(`entitle: built dist/ from src/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
