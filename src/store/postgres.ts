import pg from 'pg';
import type { Database, Queryable } from './database.ts';

// Dates and timestamps come back as text: records are hashed over their exact text, and a JS
// Date would drop the microseconds PostgreSQL keeps.
const TIMESTAMPTZ = 1184;
const DATE = 1082;
const BIGINT = 20;

export interface PostgresOptions {
  readonly connectionString: string;
  readonly maxConnections?: number;
  /** How long a query may wait for a connection before it fails (the service then answers 503). */
  readonly connectTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
}

/** PostgreSQL through a pg connection pool. */
export function openPostgres(options: PostgresOptions): Database {
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary'): ((value: string) => unknown) =>
      oid === TIMESTAMPTZ || oid === DATE
        ? (value: string) => value
        : oid === BIGINT
          ? (value: string) => Number(value)
          : (pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown),
  };
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2_000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    types: types,
  });
  // An idle connection that breaks (database restarted) must not crash the process: the pool
  // drops it and the next query opens a new one.
  pool.on('error', () => undefined);

  const run = async <Row>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]) => {
    const result = await client.query(sql, params as unknown[] | undefined);
    return { rows: result.rows as Row[] };
  };

  const listeners = new Set<() => Promise<void>>();
  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    exec: async (sql) => void (await pool.query(sql)),
    async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // A connection that breaks while checked out emits 'error' on the client: without a
      // listener that would crash the process. The failed query already rejects `work`.
      const onError = () => undefined;
      client.on('error', onError);
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await work({
          query: (sql, params) => run(client, sql, params),
          exec: async (sql) => void (await client.query(sql)),
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw error;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    async session<T>(work: (conn: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      const onError = () => undefined;
      client.on('error', onError);
      try {
        return await work({
          query: (sql, params) => run(client, sql, params),
          exec: async (sql) => void (await client.query(sql)),
        });
      } finally {
        client.off('error', onError);
        // Closed, not returned to the pool: session locks and settings end with it.
        client.release(true);
      }
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async listen(channel, onNotify) {
      const stop = await listenOn(options, channel, onNotify);
      listeners.add(stop);
      return async () => {
        listeners.delete(stop);
        await stop();
      };
    },
    async close() {
      // Listeners hold connections of their own, outside the pool: a process would not exit.
      await Promise.all([...listeners].map((stop) => stop()));
      listeners.clear();
      await pool.end();
    },
  };
}

/**
 * LISTEN needs a connection of its own, outside the pool, held for as long as the listener
 * lives. When it breaks (database restart, failover) it reconnects after a pause; notifications
 * sent meanwhile are lost, which is why every listener also polls.
 */
async function listenOn(
  options: PostgresOptions,
  channel: string,
  onNotify: (payload: string) => void,
): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const reconnect = (): void => {
    if (!stopped) retry = setTimeout(() => void connect().catch(reconnect), 1_000);
  };
  const connect = async (): Promise<void> => {
    const next = new pg.Client({
      connectionString: options.connectionString,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 2_000,
    });
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify(message.payload ?? '');
    });
    next.on('error', () => {
      void next.end().catch(() => undefined);
      if (client === next) client = undefined;
      reconnect();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      await next.end().catch(() => undefined);
      throw error;
    }
    if (stopped) {
      await next.end();
      return;
    }
    client = next;
  };
  // If the database is not reachable now, polling carries on and the listener keeps trying.
  await connect().catch(reconnect);
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => undefined);
    client = undefined;
  };
}
