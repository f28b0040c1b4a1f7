/**
 * What one batch of compared decisions comes to: plain counts, and the award changes for the
 * medians, so tallies add up in any order. The worker thread (worker.ts) makes them; report.ts
 * merges them.
 */
import type { Comparator, ComparisonKind, Difference, Expectations } from '../comparison/index.ts';

/** Award change bands, in pence: each covers [min, next band's min). Gains and losses alike. */
export const CHANGE_BANDS = [
  { label: 'under £1', minPence: 1 },
  { label: '£1 to under £10', minPence: 100 },
  { label: '£10 to under £50', minPence: 1_000 },
  { label: '£50 to under £100', minPence: 5_000 },
  { label: '£100 to under £500', minPence: 10_000 },
  { label: '£500 or more', minPence: 50_000 },
] as const;

export const KINDS: readonly ComparisonKind[] = [
  'identical',
  'expected',
  'unexpected',
  'candidate_error',
  'active_error',
  'both_error',
];
/** Examples are kept of every kind but identical, which has nothing to show. */
export const EXAMPLES_PER_KIND = 5;
/** An example shows at most this many differences; the count says how many there were. */
const DIFFERENCES_PER_EXAMPLE = 20;

/** One batch as the worker receives it: decisions in id order, their inputs as one JSON array. */
export interface BatchMessage {
  readonly seq: number;
  /** The JSON text of an array holding each decision's stored inputs. */
  readonly inputs: string;
  /** For each decision, the index in `hashes` of the version to compare the candidate with. */
  readonly baselines: Uint16Array;
  readonly hashes: readonly string[];
  /** Stored bundles of versions this worker has not been sent yet. */
  readonly bundles: Readonly<Record<string, unknown>>;
}

export interface Example {
  /** The decision's position in its batch; backtest.ts turns it into the decision id. */
  readonly row: number;
  readonly kind: ComparisonKind;
  readonly activeAwardPence?: number;
  readonly candidateAwardPence?: number;
  readonly activeError?: string;
  readonly candidateError?: string;
  readonly differenceCount: number;
  readonly differences: readonly Difference[];
}

/** What one batch came to. Every field but the examples adds up across batches in any order. */
export interface BatchTally {
  readonly seq: number;
  readonly kinds: Record<ComparisonKind, number>;
  gaining: number;
  losing: number;
  unchanged: number;
  totalChangePence: number;
  readonly gainBands: number[];
  readonly lossBands: number[];
  /** Each non-zero award change, in pence (for the medians). */
  readonly changes: Float64Array;
  /** Variable name to [decisions in which it differs, of which unexpectedly]. */
  readonly variables: Record<string, [number, number]>;
  readonly examples: Example[];
}

export interface WorkerSetup {
  readonly role: 'entitle-backtest';
  readonly candidate: unknown;
  readonly expectations: Expectations;
}

function bandOf(pence: number): number {
  let band = 0;
  while (band + 1 < CHANGE_BANDS.length && pence >= CHANGE_BANDS[band + 1]!.minPence) band++;
  return band;
}

function emptyTally(seq: number, size: number): BatchTally & { changeCount: number } {
  return {
    seq,
    kinds: { identical: 0, expected: 0, unexpected: 0, candidate_error: 0, active_error: 0, both_error: 0 },
    gaining: 0,
    losing: 0,
    unchanged: 0,
    totalChangePence: 0,
    gainBands: CHANGE_BANDS.map(() => 0),
    lossBands: CHANGE_BANDS.map(() => 0),
    changes: new Float64Array(size),
    changeCount: 0,
    variables: {},
    examples: [],
  };
}

/**
 * Compares each decision in a batch and tallies the results. A top-level function with a plain
 * loop: it runs once per decision, and under tsx a named closure costs more than the work.
 */
export function tallyBatch(
  seq: number,
  inputs: readonly unknown[],
  baselines: Uint16Array,
  comparators: readonly Comparator[],
): BatchTally {
  const tally = emptyTally(seq, inputs.length);
  const examplesOfKind: Record<string, number> = {};
  for (let row = 0; row < inputs.length; row++) {
    const comparison = comparators[baselines[row]!]!.compare(inputs[row]);
    const { kind, differences, activeAward, candidateAward } = comparison;
    tally.kinds[kind]++;
    if (activeAward !== undefined && candidateAward !== undefined) {
      const change = candidateAward - activeAward;
      if (change === 0) tally.unchanged++;
      else {
        tally.changes[tally.changeCount++] = change;
        tally.totalChangePence += change;
        if (change > 0) {
          tally.gaining++;
          tally.gainBands[bandOf(change)]!++;
        } else {
          tally.losing++;
          tally.lossBands[bandOf(-change)]!++;
        }
      }
    }
    if (differences.length > 0) countVariables(tally.variables, differences);
    if (kind !== 'identical' && (examplesOfKind[kind] ?? 0) < EXAMPLES_PER_KIND) {
      examplesOfKind[kind] = (examplesOfKind[kind] ?? 0) + 1;
      tally.examples.push({
        row,
        kind,
        ...(activeAward !== undefined ? { activeAwardPence: activeAward } : {}),
        ...(candidateAward !== undefined ? { candidateAwardPence: candidateAward } : {}),
        ...(comparison.activeError ? { activeError: comparison.activeError } : {}),
        ...(comparison.candidateError ? { candidateError: comparison.candidateError } : {}),
        differenceCount: differences.length,
        differences: differences.slice(0, DIFFERENCES_PER_EXAMPLE),
      });
    }
  }
  return { ...tally, changes: tally.changes.slice(0, tally.changeCount) };
}

/** Counts each variable once per decision, however many list entries (children, adults) differ. */
function countVariables(variables: Record<string, [number, number]>, differences: readonly Difference[]): void {
  const seen = new Map<string, boolean>();
  for (const d of differences) {
    const unexpected = d.cause === 'undeclared' || d.cause === 'out_of_bounds';
    seen.set(d.variable, (seen.get(d.variable) ?? false) || unexpected);
  }
  for (const [name, unexpected] of seen) {
    const entry = (variables[name] ??= [0, 0]);
    entry[0]++;
    if (unexpected) entry[1]++;
  }
}
