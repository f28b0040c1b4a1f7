import { EntitleError } from '../errors/index.ts';
import { adoptUnauditedKeys } from '../keys/index.ts';
import {
  describeStore,
  migrate,
  migrationsCurrent,
  openDatabase,
  storeSettingsFrom,
  type Database,
} from '../store/index.ts';

/**
 * Opens the configured database, runs `work`, and always closes it. Commands that write (keys)
 * migrate first, as the server would; commands that only read or purge need the schema there
 * already and never change it. `existing` needs every migration of this release; `behind`
 * accepts a database a release behind (a deploy's checks run before its migration Job); `fresh`
 * leaves an empty database as it is, for restore to migrate.
 */
export async function withDatabase<T>(
  options: { dataDir?: string },
  work: (db: Database) => Promise<T>,
  mode: 'migrate' | 'existing' | 'behind' | 'fresh' = 'existing',
): Promise<T> {
  const settings = storeSettingsFrom(options);
  const db = await openDatabase(settings);
  try {
    if (mode === 'migrate') {
      await migrate(db);
      await adoptUnauditedKeys(db);
    } else if (mode === 'existing' && !(await migrationsCurrent(db).catch(() => false))) {
      throw new EntitleError(
        'ENTITLE_STORE_UNAVAILABLE',
        `the ${describeStore(settings)} has not been set up by this version of Entitle`,
        [{ message: 'start "entitle serve" once against it (it migrates at start-up), then run this command again' }],
      );
    }
    return await work(db);
  } catch (error) {
    if (error instanceof EntitleError) throw error;
    throw new EntitleError(
      'ENTITLE_STORE_UNAVAILABLE',
      `the ${describeStore(settings)} could not be used: ${(error as Error).name}`,
      [{ message: 'check DATABASE_URL (or the data directory) and that the database is running' }],
    );
  } finally {
    await db.close();
  }
}
