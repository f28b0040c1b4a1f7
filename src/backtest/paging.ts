/**
 * Reading the decisions to compare: in id order (UUIDv7, so time order), in keyset-paginated
 * batches, with the range fixed when the backtest starts.
 */
import type { Database } from '../store/index.ts';
import type { BacktestWindow } from './options.ts';

const LOWEST_ID = '00000000-0000-0000-0000-000000000000';
const HIGHEST_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
/** The smallest UUIDv7 made at or after an instant: its first 48 bits are Unix milliseconds. */
function idFloor(instant: string): string {
  // A UUIDv7 holds 48 bits of milliseconds: dates before 1970 or after the year 10889 are clamped.
  const ms = Math.min(Math.max(Date.parse(instant), 0), 2 ** 48 - 1);
  const hex = ms.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

/**
 * Runs a query that walks the id index in order. Without statistics (a table just bulk-loaded,
 * or a server with autovacuum off) the planner guesses a few hundred matching rows, and so
 * fetches and sorts every remaining decision for each batch: quadratic. Ruling out the sort
 * leaves the plan that reads the index in order and stops at the limit.
 */
function inIdOrder<Row>(db: Database, sql: string, params: readonly unknown[]): Promise<{ rows: Row[] }> {
  return db.transaction(async (tx) => {
    await tx.query('SET LOCAL enable_sort = off');
    return tx.query<Row>(sql, params);
  });
}

/** The first and last decision ids to compare, both included, fixed when the backtest starts. */
export async function decisionRange(
  db: Database,
  benefit: string,
  window: BacktestWindow | undefined,
): Promise<{ low: string; high: string } | undefined> {
  let low = LOWEST_ID;
  let below = HIGHEST_ID;
  if (window && 'from' in window) {
    low = idFloor(window.from);
    below = idFloor(window.to);
  }
  // Decisions made while the backtest runs are not part of it: the range ends at the last id now.
  const last = await inIdOrder<{ id: string }>(
    db,
    'SELECT id FROM decisions WHERE benefit = $1 AND id >= $2 AND id < $3 ORDER BY id DESC LIMIT 1',
    [benefit, low, below],
  );
  const high = last.rows[0]?.id;
  if (high === undefined) return undefined;
  if (window && 'last' in window) {
    const first = await inIdOrder<{ id: string }>(
      db,
      'SELECT id FROM decisions WHERE benefit = $1 AND id <= $2 ORDER BY id DESC LIMIT 1 OFFSET $3',
      [benefit, high, window.last - 1],
    );
    low = first.rows[0]?.id ?? LOWEST_ID;
  }
  return { low, high };
}

export interface DecisionRow {
  readonly id: string;
  readonly application_id: string;
  readonly ruleset_hash: string;
  /** The stored inputs as JSON text (parsed in the workers); null once purged. */
  readonly inputs: string | null;
}

/** The decisions of a benefit in a range, in id order, `size` at a time (keyset pagination). */
export async function* decisionBatches(
  db: Database,
  benefit: string,
  range: { low: string; high: string },
  size: number,
): AsyncGenerator<DecisionRow[]> {
  let after: string | undefined;
  for (;;) {
    const { rows } = await inIdOrder<DecisionRow>(
      db,
      `SELECT id, application_id, ruleset_hash, inputs::text AS inputs FROM decisions
       WHERE benefit = $1 AND id ${after === undefined ? '>=' : '>'} $2 AND id <= $3 ORDER BY id LIMIT $4`,
      [benefit, after ?? range.low, range.high, size],
    );
    if (rows.length === 0) return;
    yield rows;
    after = rows[rows.length - 1]!.id;
  }
}
