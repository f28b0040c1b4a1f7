import { randomBytes } from 'node:crypto';
import { migrate, openPglite, openPostgres, type Database } from '../store/index.ts';

/** The PostgreSQL server tests use: the one on this machine and in CI, never a mock. */
export const TEST_POSTGRES_URL = process.env.ENTITLE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly db: Database;
  /** The connection string of a PostgreSQL test database (undefined for PGlite). */
  readonly url?: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database of each kind: every test gets its own and drops it afterwards. */
export const testDatabases: Record<'pglite' | 'postgres', (options?: { migrate?: boolean }) => Promise<TestDatabase>> =
  {
    async pglite(options = {}) {
      const db = await openPglite(undefined);
      if (options.migrate !== false) await migrate(db);
      return { db, drop: () => db.close() };
    },
    async postgres(options = {}) {
      const name = `entitle_test_${randomBytes(6).toString('hex')}`;
      const admin = openPostgres({ connectionString: TEST_POSTGRES_URL, maxConnections: 1 });
      await admin.query(`CREATE DATABASE ${name}`);
      const url = new URL(TEST_POSTGRES_URL);
      url.pathname = `/${name}`;
      const db = openPostgres({ connectionString: url.toString(), maxConnections: 10 });
      if (options.migrate !== false) await migrate(db);
      return {
        db,
        url: url.toString(),
        async drop() {
          await db.close();
          await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await admin.close();
        },
      };
    },
  };
