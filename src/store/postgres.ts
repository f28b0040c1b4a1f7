import pg from 'pg';
import type { CallOptions, Database, Queryable } from './database.ts';
import { DatabaseDeadline, databaseFailure } from './failures.ts';

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
  /**
   * The longest a statement may run: PostgreSQL cancels it then (statement_timeout), and the
   * client gives up DEADLINE_MARGIN_MS later, which only happens when the database or the
   * network has stopped answering. Also the default deadline of a whole transaction.
   */
  readonly timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 5_000;
/** How long after the server's own timeout the client stops waiting for an answer. */
export const DEADLINE_MARGIN_MS = 1_000;

/**
 * How long the server keeps a transaction whose client went quiet before it ends it (rolled back
 * unless its COMMIT arrived): twice the deadline, and at least 10 s.
 */
export function abandonedTransactionMs(deadlineMs: number): number {
  return Math.max(deadlineMs * 2, 10_000);
}

/**
 * Runs `work` on a checked-out client under a deadline. At the deadline the connection is
 * destroyed (its socket, not a polite Terminate that a frozen network would never carry), so the
 * statement in flight fails at once, the server rolls back what was not committed, and the
 * client is never returned to the pool. Written by hand: pg's query_timeout leaves the client in
 * the pool with its query still outstanding on the wire.
 */
async function underDeadline<T>(
  client: pg.PoolClient,
  ms: number,
  what: 'query' | 'transaction',
  work: () => Promise<T>,
  onExpired: () => void,
): Promise<T> {
  if (ms <= 0) return work();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpired();
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
      reject(new DatabaseDeadline(what, ms));
    }, ms);
  });
  try {
    return await Promise.race([work(), expired]);
  } finally {
    clearTimeout(timer);
  }
}

const sqlState = (error: unknown): string => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : '';
};
/** Whether the server answered with an error of its own (pg's DatabaseError), rather than the connection failing. */
const hasSqlState = (error: unknown): boolean => error instanceof Error && 'severity' in error;

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
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadlineMs = timeoutMs > 0 ? timeoutMs + DEADLINE_MARGIN_MS : 0;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 2_000,
    statement_timeout: timeoutMs,
    // A transaction whose client vanished (deadline, frozen network) is rolled back by the server
    // rather than holding its locks until TCP notices.
    idle_in_transaction_session_timeout: abandonedTransactionMs(deadlineMs),
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    types: types,
  });
  // An idle connection that breaks (database restarted) must not crash the process: the pool
  // drops it and the next query opens a new one.
  pool.on('error', () => undefined);

  const run = async <Row>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]) => {
    const result = await client.query(sql, params as unknown[] | undefined);
    return { rows: result.rows as Row[] };
  };

  /** Checks out a client for `work`, then returns it to the pool, or closes it if it broke. */
  const withClient = async <T>(
    ms: number,
    what: 'query' | 'transaction',
    work: (client: pg.PoolClient, destroyed: () => boolean, expired: () => void) => Promise<T>,
    keep = true,
  ): Promise<T> => {
    const client = await pool.connect();
    // A connection that breaks while checked out emits 'error' on the client: without a
    // listener that would crash the process. The failed query already rejects `work`.
    let broken = false;
    const onError = () => void (broken = true);
    client.on('error', onError);
    try {
      const expired = () => void (broken = true);
      return await underDeadline(client, ms, what, () => work(client, () => broken, expired), expired);
    } catch (error) {
      // A statement the server refused leaves the connection usable; anything else may not.
      if (databaseFailure(error) === 'unavailable') broken = true;
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken || !keep);
    }
  };
  /** One connection as a Queryable, each statement under `ms` (0: none). */
  const single = (client: pg.PoolClient, ms: number, expired: () => void): Queryable => ({
    query: (sql, params) => underDeadline(client, ms, 'query', () => run(client, sql, params), expired),
    exec: (sql) => underDeadline(client, ms, 'query', async () => void (await client.query(sql)), expired),
  });

  const listeners = new Set<() => Promise<void>>();
  return {
    kind: 'postgres',
    deadlineMs,
    query: (sql, params, call) =>
      withClient(call?.deadlineMs ?? deadlineMs, 'query', (client) => run(client, sql, params)),
    exec: (sql) => withClient(deadlineMs, 'query', async (client) => void (await client.query(sql))),
    transaction<T>(work: (tx: Queryable) => Promise<T>, call?: CallOptions): Promise<T> {
      let commitSent = false;
      return withClient(call?.deadlineMs ?? deadlineMs, 'transaction', async (client, destroyed, expired) => {
        const tx = single(client, call?.statementDeadlineMs ?? deadlineMs, expired);
        await tx.query('BEGIN');
        let result: T;
        try {
          result = await work(tx);
        } catch (error) {
          // A connection whose ROLLBACK failed is never returned to the pool.
          if (!destroyed()) await tx.query('ROLLBACK').catch(expired);
          throw error;
        }
        commitSent = true;
        await tx.query('COMMIT');
        return result;
      }).catch((error: unknown) => {
        // The COMMIT was sent and no answer came (the deadline, or the connection broke): whether
        // it took effect is unknown to this side. An error the server gave for it is a rollback.
        if (
          commitSent &&
          (error instanceof DatabaseDeadline || !hasSqlState(error) || /^(08|57P0)/.test(sqlState(error)))
        )
          Object.assign(error as Error, { outcomeUnknown: true });
        throw error;
      });
    },
    session<T>(work: (conn: Queryable) => Promise<T>, call?: CallOptions): Promise<T> {
      // Closed afterwards, not returned to the pool: session locks and settings end with it.
      return withClient(
        call?.deadlineMs ?? 0,
        'transaction',
        (client, _destroyed, expired) => work(single(client, 0, expired)),
        false,
      );
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
