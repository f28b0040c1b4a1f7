import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { Database } from './database.ts';

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
      return { version: Number(file.slice(0, 3)), name: file.replace(/\.sql$/, ''), sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/** The migrations shipped with this release. */
export function shippedMigrations(): Promise<Migration[]> {
  return readMigrations(MIGRATIONS_DIR);
}

/**
 * Applies the migrations not yet applied, each in its own transaction, under an advisory lock so
 * that several instances starting at once migrate once. An applied migration whose file has
 * changed since is refused: migrations are never edited, only added.
 */
export async function migrate(db: Database, migrations?: readonly Migration[]): Promise<MigrationResult> {
  const all = migrations ?? (await shippedMigrations());
  // One transaction with a transaction-scoped advisory lock: the lock is released however the
  // transaction ends, on whichever pooled connection it ran, and DDL is transactional.
  return db.transaction(async (tx) => {
    await tx.query('SET LOCAL statement_timeout = 0');
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await tx.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
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
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [migration.version, migration.name, migration.checksum]);
      applied.push(migration.name);
    }
    return { applied, current: Math.max(0, ...all.map((m) => m.version)) };
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
