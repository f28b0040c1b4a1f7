/**
 * The one small interface over the two databases Entitle runs on: PostgreSQL in production
 * (through pg's pool) and PGlite, PostgreSQL compiled to WebAssembly, embedded for a laptop or a
 * single small instance. The same SQL and the same migrations serve both.
 */
/** Per call: how long the client waits before it gives up (0: no limit; default: the database's own). */
export interface CallOptions {
  readonly deadlineMs?: number;
  /** In a transaction: each statement's own deadline (default: the database's). */
  readonly statementDeadlineMs?: number;
}

export interface Queryable {
  /** On PostgreSQL, a statement outside a transaction has the database's deadline unless `call` says otherwise. */
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    call?: CallOptions,
  ): Promise<{ rows: Row[] }>;
  /** Runs a script of several statements, without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface PoolStats {
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /**
   * How long a call waits before it gives up, unless it says otherwise (CallOptions): the
   * statement timeout and its margin on PostgreSQL; 0 (no deadline) for the embedded database,
   * which runs in this process and has no network to lose.
   */
  readonly deadlineMs: number;
  /**
   * Runs `work` in one transaction: committed if it resolves, rolled back if it throws. On
   * PostgreSQL the whole transaction has a deadline (the database's own unless `call` says
   * otherwise); at it the connection is dropped and the call rejects with DatabaseDeadline. An
   * error with `outcomeUnknown: true` came after COMMIT was sent: the work may have been committed.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>, call?: CallOptions): Promise<T>;
  /**
   * Runs `work` on one connection held for its whole length, outside any transaction: for what
   * must span transactions on one session (the migrator's lock, concurrent index builds). The
   * connection is closed afterwards, so nothing set on it outlives `work`. No deadline unless
   * `call` gives one: index builds in migrations run for as long as they need.
   */
  session<T>(work: (conn: Queryable) => Promise<T>, call?: CallOptions): Promise<T>;
  poolStats(): PoolStats;
  /**
   * Calls `onNotify` for each NOTIFY on `channel` until the returned function is called.
   * Notifications are a fast path only: a listener whose connection breaks reconnects, and any
   * notification missed meanwhile is lost, so callers also poll.
   */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
