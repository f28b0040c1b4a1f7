import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { EntitleError } from '../errors/index.ts';

const LOCK = 'entitle.lock';
const HOLDER = 'entitle.pid';

/**
 * The embedded database serves one process at a time. proper-lockfile takes the lock atomically
 * (mkdir) and keeps it fresh while the process lives, so a lock left by a process that died goes
 * stale and is taken over safely, by one process only. The holder's pid is written beside it so
 * a refused command can say who holds the data.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const lockfilePath = join(dir, LOCK);
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, { lockfilePath, stale: 10_000, update: 2_000, retries: 0, realpath: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const holder = (await readFile(join(dir, HOLDER), 'utf8').catch(() => '')).trim() || 'unknown';
    throw new EntitleError(
      'ENTITLE_DATA_DIR_IN_USE',
      `the embedded database in ${dir} is in use by process ${holder}`,
      [
        {
          message: `stop the process using it (for example a running "entitle serve", pid ${holder}), or set DATABASE_URL to use PostgreSQL, which serves many processes`,
        },
      ],
    );
  }
  await writeFile(join(dir, HOLDER), String(process.pid));
  return async () => {
    await rm(join(dir, HOLDER), { force: true });
    await release();
  };
}
