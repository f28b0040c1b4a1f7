import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { migrate, shippedMigrations, type Database, type Queryable } from '../store/index.ts';

/*
 * A logical backup of the whole database in one file: gzip'd JSON lines, the same format from
 * PostgreSQL and from the embedded database (so either restores into either). It is one
 * REPEATABLE READ snapshot, taken while the service runs. Restore goes into an empty database,
 * migrated to the backup's schema first, then to this release's.
 *
 * Written by hand: pg_dump does not run against the embedded database, and its output cannot be
 * restored into PGlite; this format is small and read back row by row with PostgreSQL's own
 * jsonb_populate_recordset, so every column keeps its type. Production point-in-time recovery
 * uses WAL archiving (docs/operations.md), not this.
 */

export const BACKUP_FORMAT = 'entitle-backup/1';
const BATCH = 2_000;

export interface BackupHeader {
  readonly format: typeof BACKUP_FORMAT;
  readonly takenAt: string;
  /** The newest migration applied to the database backed up. */
  readonly migration: number;
  /** Every table, parents before children, with its row count. */
  readonly tables: readonly { readonly name: string; readonly rows: number }[];
  /** Every sequence and its last value, so numbering continues where it stopped. */
  readonly sequences: Readonly<Record<string, number | null>>;
  /** The newest checkpoint of each log in the snapshot: what the restored log must give again. */
  readonly checkpoints: Readonly<Record<string, { readonly size: number; readonly note: string } | undefined>>;
}

export interface BackupSummary {
  readonly header: BackupHeader;
  readonly bytes: number;
  readonly seconds: number;
}

/** The longest one statement of a backup may take, on the server (the client waits 1 s more). */
const BACKUP_STATEMENT_MS = 600_000;

/** The tables of the schema, parents before children (foreign keys), schema_migrations excluded. */
async function tablesInOrder(db: Queryable): Promise<string[]> {
  const { rows: tables } = await db.query<{ name: string }>(
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY tablename",
  );
  const { rows: edges } = await db.query<{ child: string; parent: string }>(
    `SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k
     JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE k.contype = 'f' AND n.nspname = 'public' AND c.relname <> p.relname`,
  );
  const ordered: string[] = [];
  const placed = new Set<string>();
  const remaining = tables.map((t) => t.name);
  while (remaining.length > 0) {
    const next = remaining.findIndex((t) => edges.every((e) => e.child !== t || placed.has(e.parent)));
    if (next < 0) throw new Error('the tables reference each other in a cycle: no order restores them');
    const [table] = remaining.splice(next, 1);
    ordered.push(table!);
    placed.add(table!);
  }
  return ordered;
}

function quoted(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unexpected table name ${name}`);
  return `"${name}"`;
}

/**
 * Writes a consistent snapshot of the database to `file` (written beside it, then renamed, so a
 * backup that fails half-way never looks complete).
 */
export async function backupTo(db: Database, file: string): Promise<BackupSummary> {
  const started = process.hrtime.bigint();
  const temporary = `${file}.partial`;
  const gzip = createGzip();
  const out = createWriteStream(temporary, { mode: 0o600 });
  // A write that fails (a full disk) fails the backup at the next row, never the process: the
  // pipeline's rejection is held here and raised by write().
  let failure: Error | undefined;
  const piped = pipeline(gzip, out).catch((error: unknown) => {
    failure ??= error instanceof Error ? error : new Error(String(error));
  });
  const raise = (): void => {
    if (failure !== undefined) throw failure;
  };
  const write = async (value: unknown) => {
    raise();
    if (!gzip.write(`${JSON.stringify(value)}\n`)) await Promise.race([once(gzip, 'drain'), piped]);
    raise();
  };
  try {
    const header = await db.transaction(
      async (tx) => {
        await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        // Counting a large table can take longer than a request's statement may: ten minutes here.
        await tx.query(`SET LOCAL statement_timeout = ${BACKUP_STATEMENT_MS}`);
        const tables = await tablesInOrder(tx);
        const counts = [];
        for (const name of tables) {
          const { rows } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoted(name)}`);
          counts.push({ name, rows: Number(rows[0]?.n ?? 0) });
        }
        const { rows: migration } = await tx.query<{ v: number }>(
          'SELECT max(version)::int AS v FROM schema_migrations',
        );
        const { rows: seqs } = await tx.query<{ name: string; last: string | null }>(
          "SELECT sequencename AS name, last_value::text AS last FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1",
        );
        const { rows: checkpoints } = await tx.query<{ log: string; size: string; note: string }>(
          'SELECT DISTINCT ON (log) log, size::text AS size, note FROM log_checkpoints ORDER BY log, size DESC',
        );
        const header: BackupHeader = {
          format: BACKUP_FORMAT,
          takenAt: new Date().toISOString(),
          migration: Number(migration[0]?.v ?? 0),
          tables: counts,
          sequences: Object.fromEntries(seqs.map((s) => [s.name, s.last === null ? null : Number(s.last)])),
          checkpoints: Object.fromEntries(checkpoints.map((c) => [c.log, { size: Number(c.size), note: c.note }])),
        };
        await write(header);
        for (const { name } of counts) {
          // A cursor reads the table in pages inside the one snapshot, whatever its size.
          await tx.query(`DECLARE backup_rows NO SCROLL CURSOR FOR SELECT to_jsonb(t) AS r FROM ${quoted(name)} t`);
          for (;;) {
            const { rows } = await tx.query<{ r: Record<string, unknown> }>(`FETCH ${BATCH} FROM backup_rows`);
            if (rows.length > 0) await write({ table: name, rows: rows.map((row) => row.r) });
            if (rows.length < BATCH) break;
          }
          await tx.query('CLOSE backup_rows');
        }
        return header;
        // As long as the copy takes; each statement has ten minutes.
      },
      { deadlineMs: 0, statementDeadlineMs: BACKUP_STATEMENT_MS + 1_000 },
    );
    await write({ end: true, tables: header.tables.length });
    gzip.end();
    await piped;
    raise();
    await rename(temporary, file);
    return { header, bytes: (await stat(file)).size, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } catch (error) {
    gzip.destroy();
    out.destroy();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

export class RestoreError extends Error {}

/** Reads a backup's lines: the header first, then pages of rows, then the end mark. */
async function* backupLines(file: string): AsyncGenerator<Record<string, unknown>> {
  const lines = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as Record<string, unknown>;
}

/** The header of a backup file, checked to be one. */
export async function readBackupHeader(file: string): Promise<BackupHeader> {
  const lines = backupLines(file);
  try {
    const first = (await lines.next()).value as BackupHeader | undefined;
    if (first?.format === BACKUP_FORMAT) return first;
  } catch {
    // not gzip'd JSON: refused below
  } finally {
    await lines.return(undefined);
  }
  throw new RestoreError(`${file} is not an Entitle backup (${BACKUP_FORMAT})`);
}

export interface RestoreSummary {
  readonly header: BackupHeader;
  readonly rows: number;
  readonly seconds: number;
}

/**
 * Restores a backup into an empty database: migrates it to the backup's schema, loads every
 * table in one transaction (parents first; the log's triggers off, since the leaves come from the
 * backup as they were), sets every sequence, then migrates to this release. A database that
 * already holds decisions or audit events is refused: a restore never merges.
 */
export async function restoreFrom(db: Database, file: string): Promise<RestoreSummary> {
  const started = process.hrtime.bigint();
  const lines = backupLines(file);
  let first;
  try {
    first = (await lines.next()).value as BackupHeader | undefined;
  } catch {
    throw new RestoreError(`${file} is not an Entitle backup: it is not gzip'd JSON lines`);
  }
  if (!first || first.format !== BACKUP_FORMAT)
    throw new RestoreError(`${file} is not an Entitle backup (${BACKUP_FORMAT})`);
  const header = first;
  const shipped = await shippedMigrations();
  if (header.migration > Math.max(...shipped.map((m) => m.version)))
    throw new RestoreError(
      `the backup is of a newer schema (migration ${header.migration}) than this release knows: restore it with the release that took it`,
    );
  await migrate(
    db,
    shipped.filter((m) => m.version <= header.migration),
  );
  const { rows: held } = await db.query<{ n: number }>(
    'SELECT (SELECT count(*) FROM decisions)::int + (SELECT count(*) FROM audit_events)::int AS n',
  );
  if (Number(held[0]?.n ?? 0) > 0)
    throw new RestoreError(
      'the database is not empty: it holds decisions or audit events. Restore into a new, empty database',
    );
  let restored = 0;
  await db.transaction(
    async (tx) => {
      const tables = header.tables.map((t) => t.name);
      // Rows the migrations seeded (the chain heads) are replaced by the backup's.
      for (const name of [...tables].reverse()) await tx.query(`DELETE FROM ${quoted(name)}`);
      const { rows: triggers } = await tx.query<{ table: string; name: string }>(
        `SELECT c.relname AS table, t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal`,
      );
      for (const t of triggers) await tx.query(`ALTER TABLE ${quoted(t.table)} DISABLE TRIGGER ${quoted(t.name)}`);
      const counts = new Map<string, number>();
      let ended = false;
      for await (const line of lines) {
        if (line.end === true) {
          ended = true;
          break;
        }
        const table = String(line.table);
        if (!tables.includes(table))
          throw new RestoreError(`the backup holds rows of a table it does not list: ${table}`);
        const rows = line.rows as unknown[];
        await tx.query(
          `INSERT INTO ${quoted(table)} SELECT * FROM jsonb_populate_recordset(NULL::${quoted(table)}, $1::jsonb)`,
          [JSON.stringify(rows)],
        );
        counts.set(table, (counts.get(table) ?? 0) + rows.length);
        restored += rows.length;
      }
      if (!ended) throw new RestoreError('the backup ends early: it was cut short when written or copied');
      for (const t of header.tables)
        if ((counts.get(t.name) ?? 0) !== t.rows)
          throw new RestoreError(`the backup lists ${t.rows} rows of ${t.name} but holds ${counts.get(t.name) ?? 0}`);
      for (const t of triggers) await tx.query(`ALTER TABLE ${quoted(t.table)} ENABLE TRIGGER ${quoted(t.name)}`);
      for (const [name, last] of Object.entries(header.sequences))
        if (last !== null) await tx.query('SELECT setval($1::regclass, $2)', [quoted(name), last]);
    },
    { deadlineMs: 0 },
  );
  await migrate(db);
  return { header, rows: restored, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}
