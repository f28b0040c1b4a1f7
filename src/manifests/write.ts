import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { K8S_DIR, manifestFiles } from './overlays.ts';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/**
 * Writes deploy/k8s from the models, removing files no longer generated; with `check`, writes
 * nothing and lists what differs from what is committed (stale, missing or left over).
 */
export async function writeManifests(root: string, check: boolean): Promise<{ written: string[]; stale: string[] }> {
  const files = manifestFiles();
  const written: string[] = [];
  const stale: string[] = [];
  for (const [path, text] of files) {
    const full = join(root, path);
    if ((await readFile(full, 'utf8').catch(() => undefined)) === text) continue;
    if (check) stale.push(path);
    else {
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, text);
      written.push(path);
    }
  }
  for (const full of await filesUnder(join(root, K8S_DIR))) {
    const path = relative(root, full).split('\\').join('/');
    if (files.has(path)) continue;
    if (check) stale.push(path);
    else {
      await rm(full);
      written.push(path);
    }
  }
  return { written, stale };
}
