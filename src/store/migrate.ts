import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { Database, Queryable } from './database.ts';
import { runsOutsideTransaction, sqlStatements } from './migration-safety.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationResult {
  readonly applied: readonly string[];
  readonly current: number;
}

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
// Any fixed number: every instance takes the same lock, so only one migrates at a time.
const MIGRATION_LOCK = 7_346_001;

/** The migrations in a directory, in order: `NNN-name.sql`. */
export async function readMigrations(dir: URL | string): Promise<Migration[]> {
  const base = typeof dir === 'string' ? pathToFileURL(dir.endsWith('/') ? dir : `${dir}/`) : dir;
  const files = (await readdir(base)).filter((f) => /^\d{3}-[a-z0-9-]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => {
      const sql = await readFile(new URL(file, base), 'utf8');
      return {
        version: Number(file.slice(0, 3)),
        name: file.replace(/\.sql$/, ''),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    }),
  );
}

/** The migrations shipped with this release. */
export function shippedMigrations(): Promise<Migration[]> {
  return readMigrations(MIGRATIONS_DIR);
}

/**
 * Applies the migrations not yet applied, in order, under a session advisory lock so that several
 * instances (or the migration Job and an instance) starting at once migrate once. Each migration
 * runs in its own transaction with its row in schema_migrations, except those marked
 * `-- entitle:no-transaction` (concurrent index builds), which run statement by statement and are
 * written to be run again if they fail half-way. An applied migration whose file has changed since
 * is refused: migrations are never edited, only added.
 */
/**
 * Takes the migration lock, trying every 200 ms rather than waiting inside a statement: a session
 * blocked in pg_advisory_lock holds a snapshot, which a concurrent index build in the session
 * holding the lock would wait for, and the two would deadlock.
 */
async function lockForMigration(conn: Queryable): Promise<void> {
  for (;;) {
    const { rows } = await conn.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      MIGRATION_LOCK,
    ]);
    if (rows[0]?.locked) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function migrate(db: Database, migrations?: readonly Migration[]): Promise<MigrationResult> {
  const all = [...(migrations ?? (await shippedMigrations()))].sort((a, b) => a.version - b.version);
  return db.session(async (conn) => {
    // A long index build must not be cut short; the session (and this setting) ends with the call.
    await conn.query('SET statement_timeout = 0');
    await lockForMigration(conn);
    try {
      await conn.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await conn.query<{ version: number; name: string; checksum: string }>(
        'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
      );
      const done = new Map(rows.map((r) => [r.version, r]));
      for (const row of rows) {
        const shipped = all.find((m) => m.version === row.version);
        if (shipped && shipped.checksum !== row.checksum) {
          throw new Error(`migration ${row.name} was changed after it was applied; add a new migration instead`);
        }
      }
      const applied: string[] = [];
      for (const migration of all) {
        if (done.has(migration.version)) continue;
        const record = () =>
          conn.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
            migration.version,
            migration.name,
            migration.checksum,
          ]);
        if (runsOutsideTransaction(migration)) {
          for (const statement of sqlStatements(migration.sql)) await conn.exec(statement);
          await record();
        } else {
          await conn.exec('BEGIN');
          try {
            await conn.exec(migration.sql);
            await record();
            await conn.exec('COMMIT');
          } catch (error) {
            await conn.exec('ROLLBACK').catch(() => undefined);
            throw error;
          }
        }
        applied.push(migration.name);
      }
      return { applied, current: Math.max(0, ...all.map((m) => m.version)) };
    } finally {
      await conn.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    }
  });
}

/**
 * True when every migration this release needs is applied. A database ahead of this release (a
 * newer instance migrated it during a rolling deploy) is fine: migrations only expand.
 */
export async function migrationsCurrent(db: Database, migrations?: readonly Migration[]): Promise<boolean> {
  const all = migrations ?? (await shippedMigrations());
  const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations');
  const applied = new Set(rows.map((r) => r.version));
  return all.every((m) => applied.has(m.version));
}
