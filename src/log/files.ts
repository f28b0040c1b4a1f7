import { mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { LogName, StoredCheckpoint } from './store.ts';

/*
 * Checkpoints kept outside the database: one file per checkpoint, `<dir>/<log>/<size>.checkpoint`
 * (the size zero-padded so names sort), and `latest`. Whoever rewrites the database cannot reach
 * these, and `entitle audit verify` proves the log still extends every one of them.
 */

const KEEP_NEWEST = 1_000;

function fileName(size: number): string {
  return `${String(size).padStart(15, '0')}.checkpoint`;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  // Unique across pods sharing the volume (each pod's process is often pid 1).
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, text, { mode: 0o644 });
  await rename(temporary, path);
}

export async function writeCheckpointFile(dir: string, checkpoint: StoredCheckpoint): Promise<void> {
  const folder = join(dir, checkpoint.log);
  await mkdir(folder, { recursive: true });
  await writeAtomically(join(folder, fileName(checkpoint.size)), checkpoint.note);
  await writeAtomically(join(folder, 'latest'), checkpoint.note);
}

/**
 * Keeps the newest thousand checkpoints of a log and, before those, the first of each hour: any
 * one is enough to expose a rewrite below it, and the oldest are the ones a rewrite would target.
 */
export async function pruneCheckpointFiles(dir: string, log: LogName): Promise<number> {
  const folder = join(dir, log);
  const names = (await readdir(folder).catch(() => [] as string[])).filter((n) => n.endsWith('.checkpoint')).sort();
  const older = names.slice(0, Math.max(0, names.length - KEEP_NEWEST));
  const hoursKept = new Set<string>();
  let removed = 0;
  for (const name of older) {
    const hour = (await stat(join(folder, name))).mtime.toISOString().slice(0, 13);
    if (hoursKept.has(hour)) {
      await unlink(join(folder, name)).catch(() => undefined);
      removed += 1;
    } else hoursKept.add(hour);
  }
  return removed;
}

export interface CheckpointFile {
  readonly path: string;
  readonly note: string;
}

/** Every checkpoint file of a log in the directory, smallest tree first. */
export async function readCheckpointFiles(dir: string, log: LogName): Promise<CheckpointFile[]> {
  const folder = join(dir, log);
  const names = (await readdir(folder).catch(() => [] as string[])).filter((n) => n.endsWith('.checkpoint')).sort();
  return Promise.all(
    names.map(async (name) => ({ path: join(folder, name), note: await readFile(join(folder, name), 'utf8') })),
  );
}
