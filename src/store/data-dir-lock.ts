import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EntitleError } from '../errors/index.ts';

const LOCK_FILE = 'entitle.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The embedded database serves one process at a time. This lock file says which process holds a
 * data directory, so a second `entitle` command says so clearly instead of corrupting it. A lock
 * left by a process that has died is taken over.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
        throw new EntitleError('ENTITLE_DATA_DIR_IN_USE', `the embedded database in ${dir} is in use by process ${holder}`, [
          { message: `stop the process using it (for example a running "entitle serve", pid ${holder}), or set DATABASE_URL to use PostgreSQL, which serves many processes` },
        ]);
      }
      await rm(path, { force: true });
    }
  }
  throw new EntitleError('ENTITLE_DATA_DIR_IN_USE', `the embedded database in ${dir} could not be locked`, [{ message: 'another process keeps taking it: stop it and try again' }]);
}
