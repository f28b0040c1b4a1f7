/**
 * The backtest's report: the tallies of every batch merged as they arrive, then summed into
 * counts, sums and medians in pence, so it is the same whatever the number of workers.
 */
import type { ComparisonKind, Difference } from '../comparison/index.ts';
import type { RuleSet } from '../rules/index.ts';
import type { BacktestOptions } from './options.ts';
import { CHANGE_BANDS, EXAMPLES_PER_KIND, KINDS, type BatchTally, type Example } from './tally.ts';

export interface BacktestExample {
  readonly decisionId: string;
  readonly applicationId: string;
  readonly kind: ComparisonKind;
  readonly activeAwardPence?: number;
  readonly candidateAwardPence?: number;
  readonly activeError?: string;
  readonly candidateError?: string;
  /** How many differences there were; `differences` lists the first 20. */
  readonly differenceCount: number;
  readonly differences: readonly Difference[];
}

export interface ChangeBand {
  readonly label: string;
  readonly minPence: number;
  /** Excluded; null for the last band. */
  readonly maxPence: number | null;
  readonly gaining: number;
  readonly losing: number;
}

/** The same whatever the number of workers: every figure is a count or a sum in pence. */
export interface BacktestReport {
  readonly benefit: string;
  readonly candidate: { readonly id: string; readonly hash: string };
  /** `recorded`: each decision against the version that made it; otherwise that version's hash. */
  readonly baseline: string;
  readonly window: { readonly from?: string; readonly to?: string; readonly last?: number };
  /** Decisions in the window: compared plus skipped. */
  readonly decisions: number;
  readonly compared: number;
  /** Decisions whose inputs were removed under the retention policy: they cannot be replayed. */
  readonly skipped: number;
  readonly kinds: {
    readonly identical: number;
    readonly expected: number;
    readonly unexpected: number;
    readonly candidateError: number;
    readonly activeError: number;
    readonly bothError: number;
  };
  /** Comparisons in which both versions decided; an award is in pence for the outcome's period. */
  readonly awards: {
    readonly gaining: number;
    readonly losing: number;
    readonly unchanged: number;
    readonly totalChangePence: number;
    /**
     * Medians of the signed changes of the awards that change: of all, of the gains and of the
     * losses. For an even count, the lower of the two middle values (no half pence).
     */
    readonly medianChangePence: number;
    readonly medianGainPence: number;
    /** The median of the losses, as a positive amount. */
    readonly medianLossPence: number;
    readonly bands: readonly ChangeBand[];
  };
  /** The ten variables that differ in the most decisions; how many of those differences were unexpected. */
  readonly variables: readonly { readonly variable: string; readonly decisions: number; readonly unexpected: number }[];
  /** The versions the candidate was compared with, and on how many decisions each. */
  readonly versions: readonly { readonly hash: string; readonly decisions: number }[];
  /** Up to five decisions of each kind but identical, the earliest first. */
  readonly examples: Readonly<Record<Exclude<ComparisonKind, 'identical'>, readonly BacktestExample[]>>;
}

export interface BacktestResult {
  readonly report: BacktestReport;
  readonly workers: number;
  readonly seconds: number;
}

const TOP_VARIABLES = 10;

/** The running totals, merged from each batch's tally as it arrives. */
export class Totals {
  readonly kinds: Record<ComparisonKind, number> = {
    identical: 0,
    expected: 0,
    unexpected: 0,
    candidate_error: 0,
    active_error: 0,
    both_error: 0,
  };
  gaining = 0;
  losing = 0;
  unchanged = 0;
  totalChangePence = 0;
  readonly gainBands = CHANGE_BANDS.map(() => 0);
  readonly lossBands = CHANGE_BANDS.map(() => 0);
  readonly changes: Float64Array[] = [];
  readonly variables = new Map<string, [number, number]>();
  readonly versions = new Map<string, number>();
  /** Example candidates with their place in id order: batch, then row. */
  readonly examples: { seq: number; row: number; example: BacktestExample }[] = [];
  compared = 0;
  skipped = 0;

  add(tally: BatchTally, ids: readonly string[], applicationIds: readonly string[]): void {
    for (const kind of KINDS) {
      this.kinds[kind] += tally.kinds[kind];
      this.compared += tally.kinds[kind];
    }
    this.gaining += tally.gaining;
    this.losing += tally.losing;
    this.unchanged += tally.unchanged;
    this.totalChangePence += tally.totalChangePence;
    tally.gainBands.forEach((n, i) => (this.gainBands[i]! += n));
    tally.lossBands.forEach((n, i) => (this.lossBands[i]! += n));
    this.changes.push(tally.changes);
    for (const [name, [decisions, unexpected]] of Object.entries(tally.variables)) {
      const entry = this.variables.get(name) ?? [0, 0];
      this.variables.set(name, [entry[0] + decisions, entry[1] + unexpected]);
    }
    for (const e of tally.examples)
      this.examples.push({ seq: tally.seq, row: e.row, example: toExample(e, ids[e.row]!, applicationIds[e.row]!) });
  }
}

function toExample(e: Example, decisionId: string, applicationId: string): BacktestExample {
  return {
    decisionId,
    applicationId,
    kind: e.kind,
    ...(e.activeAwardPence !== undefined ? { activeAwardPence: e.activeAwardPence } : {}),
    ...(e.candidateAwardPence !== undefined ? { candidateAwardPence: e.candidateAwardPence } : {}),
    ...(e.activeError !== undefined ? { activeError: e.activeError } : {}),
    ...(e.candidateError !== undefined ? { candidateError: e.candidateError } : {}),
    differenceCount: e.differenceCount,
    differences: e.differences,
  };
}

/** The lower middle value of a sorted array; 0 when it is empty. */
function median(sorted: Float64Array): number {
  return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)]!;
}

export function report(totals: Totals, candidate: RuleSet, options: BacktestOptions): BacktestReport {
  const all = new Float64Array(totals.changes.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of totals.changes) {
    all.set(chunk, at);
    at += chunk.length;
  }
  all.sort();
  // Sorted, so the losses come first (most negative first), then the gains.
  const firstGain = all.findIndex((c) => c > 0);
  const split = firstGain === -1 ? all.length : firstGain;
  const gains = all.subarray(split);
  const losses = all.subarray(0, split);
  const examples = { expected: [], unexpected: [], candidate_error: [], active_error: [], both_error: [] } as Record<
    Exclude<ComparisonKind, 'identical'>,
    BacktestExample[]
  >;
  totals.examples.sort((a, b) => a.seq - b.seq || a.row - b.row);
  for (const { example } of totals.examples) {
    const list = examples[example.kind as Exclude<ComparisonKind, 'identical'>];
    if (list.length < EXAMPLES_PER_KIND) list.push(example);
  }
  const window = options.window;
  return {
    benefit: candidate.benefit,
    candidate: { id: candidate.id, hash: candidate.hash },
    baseline: options.baselineHash ?? 'recorded',
    window: window === undefined ? {} : 'last' in window ? { last: window.last } : { from: window.from, to: window.to },
    decisions: totals.compared + totals.skipped,
    compared: totals.compared,
    skipped: totals.skipped,
    kinds: {
      identical: totals.kinds.identical,
      expected: totals.kinds.expected,
      unexpected: totals.kinds.unexpected,
      candidateError: totals.kinds.candidate_error,
      activeError: totals.kinds.active_error,
      bothError: totals.kinds.both_error,
    },
    awards: {
      gaining: totals.gaining,
      losing: totals.losing,
      unchanged: totals.unchanged,
      totalChangePence: totals.totalChangePence,
      medianChangePence: median(all),
      medianGainPence: median(gains),
      medianLossPence: losses.length === 0 ? 0 : -median(losses),
      bands: CHANGE_BANDS.map((band, i) => ({
        label: band.label,
        minPence: band.minPence,
        maxPence: CHANGE_BANDS[i + 1]?.minPence ?? null,
        gaining: totals.gainBands[i]!,
        losing: totals.lossBands[i]!,
      })),
    },
    variables: [...totals.variables]
      .map(([variable, [decisions, unexpected]]) => ({ variable, decisions, unexpected }))
      .sort((a, b) => b.decisions - a.decisions || (a.variable < b.variable ? -1 : 1))
      .slice(0, TOP_VARIABLES),
    versions: [...totals.versions]
      .map(([hash, decisions]) => ({ hash, decisions }))
      .sort((a, b) => (a.hash < b.hash ? -1 : 1)),
    examples,
  };
}
