// What the build in dist/ was made from: every file under src/ but the tests, with its size and
// modification time, one line each, in order. scripts/build.js writes it to dist/BUILT before it
// compiles; bin/entitle.js runs the build only while src/ still gives exactly the same lines, so a
// file changed, added, removed, renamed or put back from an older copy means the sources run.
// Walked by hand: readdirSync's own recursion lists too few files on early releases of Node 20.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SRC = fileURLToPath(new URL('../src', import.meta.url));

/** The manifest of src/ as it is now. */
export function sourceManifest(root = SRC) {
  const lines = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && !entry.name.endsWith('.test.ts')) {
        const { size, mtimeMs } = statSync(path);
        lines.push(`${relative(root, path)}\t${size}\t${mtimeMs}`);
      }
    }
  };
  walk(root);
  return `${lines.sort().join('\n')}\n`;
}
