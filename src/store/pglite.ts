import { PGlite, types } from '@electric-sql/pglite';
import type { Database, Queryable } from './database.ts';

/**
 * PGlite: PostgreSQL in WebAssembly, storing its files in a directory. One process at a time
 * may open a directory (see data-dir-lock.ts); `dataDir` undefined keeps it in memory (tests).
 */
export async function openPglite(dataDir: string | undefined): Promise<Database> {
  const db = await PGlite.create({
    ...(dataDir ? { dataDir } : {}),
    // As for PostgreSQL: timestamps and dates as exact text, bigint as a number.
    parsers: {
      [types.TIMESTAMPTZ]: (v: string) => v,
      [types.DATE]: (v: string) => v,
      [types.INT8]: (v: string) => Number(v),
    },
  });
  const query = async <Row>(target: Pick<PGlite, 'query'>, sql: string, params?: readonly unknown[]) => {
    const result = await target.query<Row>(sql, params as unknown[] | undefined);
    return { rows: result.rows };
  };
  return {
    kind: 'pglite',
    deadlineMs: 0,
    query: (sql, params) => query(db, sql, params),
    exec: async (sql) => void (await db.exec(sql)),
    transaction: <T>(work: (tx: Queryable) => Promise<T>) =>
      db.transaction((tx) =>
        work({ query: (sql, params) => query(tx, sql, params), exec: async (sql) => void (await tx.exec(sql)) }),
      ),
    // One connection: a session is the database itself (one process at a time holds it).
    session: (work) =>
      work({ query: (sql, params) => query(db, sql, params), exec: async (sql) => void (await db.exec(sql)) }),
    // One connection, serialised by PGlite itself.
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    async listen(channel, onNotify) {
      const unlisten = await db.listen(channel, onNotify);
      return () => unlisten();
    },
    close: () => db.close(),
  };
}
