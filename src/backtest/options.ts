import { availableParallelism } from 'node:os';
import type { Expectations } from '../comparison/index.ts';
import { EntitleError } from '../errors/index.ts';
import { londonToInstant } from '../uk-time/index.ts';

/** When decisions were made (instants, `to` excluded), or the most recent N. */
export type BacktestWindow = { readonly from: string; readonly to: string } | { readonly last: number };

export interface BacktestOptions {
  /** A stored rule-set version (a release's), or a bundle not yet stored. */
  readonly candidate: { readonly hash: string } | { readonly bundle: unknown };
  readonly expectations: Expectations;
  /** Compare every decision with this version, instead of with the version that made it. */
  readonly baselineHash?: string;
  /** Every decision of the candidate's benefit when absent. */
  readonly window?: BacktestWindow;
  /** Worker threads comparing; the machine's available parallelism by default. */
  readonly workers?: number;
  /** Decisions read per query (5,000 by default). */
  readonly batchSize?: number;
  readonly onProgress?: (progress: { readonly done: number; readonly total: number }) => void;
}

/** Checks the options, naming every field at fault; answers how many workers to start. */
export function checkOptions(options: BacktestOptions): number {
  const workers = options.workers ?? availableParallelism();
  const problems = [];
  if (!Number.isInteger(workers) || workers < 1 || workers > 64)
    problems.push({ field: '--workers', message: 'enter a whole number of worker threads from 1 to 64' });
  const window = options.window;
  if (window && 'last' in window && (!Number.isInteger(window.last) || window.last < 1))
    problems.push({ field: '--last', message: 'enter a whole number of decisions, 1 or more, such as 100000' });
  if (window && 'from' in window) {
    if (Number.isNaN(Date.parse(window.from)) || Number.isNaN(Date.parse(window.to)))
      problems.push({ field: '--from', message: 'enter dates such as 2026-10-01' });
    else if (Date.parse(window.to) <= Date.parse(window.from))
      problems.push({ field: '--to', message: 'enter an end after the start' });
  }
  if (problems.length > 0)
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the backtest options are not valid', problems);
  return workers;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The window a person asks for: the last N decisions, or a period of UK dates or times with both
 * days included (a date as `to` means the whole of that day), or, with neither, every decision.
 * `fields` names the options as the caller shows them (`--last` on the command line).
 */
export function backtestWindow(
  spec: {
    readonly last?: number | string | undefined;
    readonly from?: string | undefined;
    readonly to?: string | undefined;
  },
  fields = { last: 'last', from: 'from', to: 'to' },
  now = new Date(),
): BacktestWindow | undefined {
  if (spec.last !== undefined && (spec.from !== undefined || spec.to !== undefined)) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `give ${fields.last} or a period, not both`, [
      {
        field: fields.last,
        message: `give ${fields.last} N for the most recent decisions, or ${fields.from} and ${fields.to} for a period`,
      },
    ]);
  }
  if (spec.last !== undefined) return { last: Number(spec.last) };
  if (spec.from === undefined && spec.to === undefined) return undefined;
  const endOf = (text: string) => {
    if (!DATE_ONLY.test(text.trim())) return londonToInstant(text, fields.to);
    londonToInstant(text, fields.to);
    const [y, m, d] = text.trim().split('-').map(Number) as [number, number, number];
    return londonToInstant(new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10), fields.to);
  };
  return {
    from: spec.from === undefined ? '1970-01-01T00:00:00.000Z' : londonToInstant(spec.from, fields.from),
    to: spec.to === undefined ? now.toISOString() : endOf(spec.to),
  };
}
