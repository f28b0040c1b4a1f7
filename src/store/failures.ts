import { EntitleError } from '../errors/index.ts';

/**
 * What a database error means for the caller, whichever database raised it: the database could
 * not be reached or did not answer in time (answer 503 with Retry-After; the request may be sent
 * again), or it refused a value as data (answer 400), or neither (a fault of ours: 500).
 */
export type DatabaseFailure = 'unavailable' | 'value';

/**
 * Every store failure reaches the caller as ENTITLE_STORE_UNAVAILABLE (503 with Retry-After):
 * never a 500, never a partial answer. An EntitleError already raised passes as it is.
 */
export async function fromStore<T>(work: Promise<T> | (() => Promise<T>), what = 'the decision store'): Promise<T> {
  try {
    return await (typeof work === 'function' ? work() : work);
  } catch (error) {
    if (error instanceof EntitleError) throw error;
    throw new EntitleError('ENTITLE_STORE_UNAVAILABLE', `${what} could not be reached`);
  }
}

/** A call that the client gave up on at its deadline: the database may still be working on it. */
export class DatabaseDeadline extends Error {
  constructor(
    readonly what: 'connect' | 'query' | 'transaction',
    readonly ms: number,
  ) {
    super(`the database did not answer within ${ms} ms (${what})`);
    this.name = 'DatabaseDeadline';
  }
}

// Socket-level failures, as Node names them.
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

// pg's own messages when a connection ends or never starts: it raises plain Errors for these.
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

export function databaseFailure(error: unknown): DatabaseFailure | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error instanceof DatabaseDeadline || error.name === 'InjectedFault') return 'unavailable';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK.has(code)) return 'unavailable';
    // SQLSTATE classes: 08 connection exception, 53 insufficient resources (too many
    // connections), 57 operator intervention (shutdown, statement timeout), 40 transaction
    // rollback (serialization, deadlock: retrying succeeds), 55P03 lock not available.
    // Also 28 (authentication, as after a password rotation), 3D000 (no such database), and
    // 25006 (read-only: a connection that reached a standby, as during a failover).
    if (/^(08|53|57|40|28)[0-9A-Z]{3}$/.test(code) || ['55P03', '3D000', '25006'].includes(code)) return 'unavailable';
    // Class 22, data exception: a value the database would not take (a NUL, a number out of range).
    if (/^22[0-9A-Z]{3}$/.test(code)) return 'value';
  }
  if (PG_CONNECTION_MESSAGES.some((message) => error.message.startsWith(message))) return 'unavailable';
  return undefined;
}
