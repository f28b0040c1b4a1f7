/**
 * Backtest: re-evaluates stored decisions under a candidate rule set, before it decides anything,
 * and reports what would have changed. Each decision is compared with the version that made it
 * (its recorded `ruleset_hash`), so a backtest over months that span a promotion compares each
 * decision with the rules that were actually applied; `baselineHash` compares every decision with
 * one version instead.
 *
 * Decisions are read in id order (UUIDv7, so time order) in keyset-paginated batches while
 * worker threads compare earlier batches: reading and comparing overlap, and at most two batches
 * per worker are in flight, so memory stays flat however many decisions there are. Inputs are
 * read as JSON text and parsed in the workers, where the parsing is spread across cores.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { appendAuditEvent } from '../audit/index.ts';
import { storedBundle } from '../decisions/index.ts';
import { EntitleError, errorRegistry, type ErrorCode } from '../errors/index.ts';
import { ruleSetFromBundle, type RuleSet } from '../rules/index.ts';
import type { Database } from '../store/index.ts';
import { CHANGE_BANDS, EXAMPLES_PER_KIND, KINDS, type BatchMessage, type BatchTally, type Example, type WorkerSetup } from './backtest-worker.ts';
import type { ComparisonKind, Difference } from './compare.ts';
import type { Expectations } from './expectations.ts';
import type { Release } from './model.ts';
import { londonToInstant } from '../uk-time/index.ts';
import { getRelease } from './repository.ts';

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
  readonly kinds: { readonly identical: number; readonly expected: number; readonly unexpected: number; readonly candidateError: number; readonly activeError: number; readonly bothError: number };
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

const LOWEST_ID = '00000000-0000-0000-0000-000000000000';
const HIGHEST_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
const TOP_VARIABLES = 10;

/** The smallest UUIDv7 made at or after an instant: its first 48 bits are Unix milliseconds. */
function idFloor(instant: string): string {
  // A UUIDv7 holds 48 bits of milliseconds: dates before 1970 or after the year 10889 are clamped.
  const ms = Math.min(Math.max(Date.parse(instant), 0), 2 ** 48 - 1);
  const hex = ms.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

function checkOptions(options: BacktestOptions): number {
  const workers = options.workers ?? availableParallelism();
  const problems = [];
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) problems.push({ field: '--workers', message: 'enter a whole number of worker threads from 1 to 64' });
  const window = options.window;
  if (window && 'last' in window && (!Number.isInteger(window.last) || window.last < 1)) problems.push({ field: '--last', message: 'enter a whole number of decisions, 1 or more, such as 100000' });
  if (window && 'from' in window) {
    if (Number.isNaN(Date.parse(window.from)) || Number.isNaN(Date.parse(window.to))) problems.push({ field: '--from', message: 'enter dates such as 2026-10-01' });
    else if (Date.parse(window.to) <= Date.parse(window.from)) problems.push({ field: '--to', message: 'enter an end after the start' });
  }
  if (problems.length > 0) throw new EntitleError('ENTITLE_INPUT_INVALID', 'the backtest options are not valid', problems);
  return workers;
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
export async function decisionRange(db: Database, benefit: string, window: BacktestWindow | undefined): Promise<{ low: string; high: string } | undefined> {
  let low = LOWEST_ID;
  let below = HIGHEST_ID;
  if (window && 'from' in window) {
    low = idFloor(window.from);
    below = idFloor(window.to);
  }
  // Decisions made while the backtest runs are not part of it: the range ends at the last id now.
  const last = await inIdOrder<{ id: string }>(db, 'SELECT id FROM decisions WHERE benefit = $1 AND id >= $2 AND id < $3 ORDER BY id DESC LIMIT 1', [benefit, low, below]);
  const high = last.rows[0]?.id;
  if (high === undefined) return undefined;
  if (window && 'last' in window) {
    const first = await inIdOrder<{ id: string }>(db, 'SELECT id FROM decisions WHERE benefit = $1 AND id <= $2 ORDER BY id DESC LIMIT 1 OFFSET $3', [benefit, high, window.last - 1]);
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
export async function* decisionBatches(db: Database, benefit: string, range: { low: string; high: string }, size: number): AsyncGenerator<DecisionRow[]> {
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

/** Starts a worker thread that runs TypeScript: it registers tsx's loader first, as bin/entitle.js does. */
function startWorker(setup: WorkerSetup): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./backtest-worker.ts', import.meta.url).href;
  // The parent's loader flags are not passed on (execArgv: []): under `node --import tsx` and under
  // bin/entitle.js alike, the worker registers tsx once, itself.
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, execArgv: [], workerData: setup });
}

/** A worker's answer to a batch: its tally, or why it could not make one. */
interface WorkerAnswer {
  readonly seq?: number;
  readonly tally?: BatchTally;
  readonly error?: string;
  readonly code?: string;
}

function isErrorCode(code: string | undefined): code is ErrorCode {
  return code !== undefined && code in errorRegistry;
}

interface Slot {
  readonly worker: Worker;
  busy: number;
  /** Rule-set versions this worker has been sent. */
  readonly sent: Set<string>;
}

/** The worker threads, each taking batches in turn; a worker that fails fails the backtest. */
class Pool {
  readonly slots: Slot[];
  private readonly waiting = new Map<number, { resolve: (tally: BatchTally) => void; reject: (error: Error) => void }>();
  /** Set once any worker fails: later batches are refused at once rather than sent to it. */
  private broken: Error | undefined;

  constructor(size: number, setup: WorkerSetup) {
    this.slots = Array.from({ length: size }, () => {
      const slot: Slot = { worker: startWorker(setup), busy: 0, sent: new Set() };
      slot.worker.on('message', (message: WorkerAnswer) => this.answer(slot, message));
      slot.worker.on('error', (error) => this.failAll(new EntitleError('ENTITLE_INTERNAL', `a backtest worker failed: ${error.name}: ${error.message}`)));
      slot.worker.on('exit', (code) => this.failAll(new EntitleError('ENTITLE_INTERNAL', `a backtest worker stopped (exit code ${code})`)));
      return slot;
    });
  }

  /** Sends a batch to the least busy worker, with the rule-set versions it has not seen yet. */
  run(message: Omit<BatchMessage, 'bundles'>, bundles: ReadonlyMap<string, unknown>): Promise<BatchTally> {
    if (this.broken) return Promise.reject(this.broken);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const unsent: Record<string, unknown> = {};
    for (const hash of message.hashes) {
      if (!slot.sent.has(hash)) {
        unsent[hash] = bundles.get(hash);
        slot.sent.add(hash);
      }
    }
    slot.busy++;
    return new Promise((resolve, reject) => {
      this.waiting.set(message.seq, { resolve, reject });
      slot.worker.postMessage({ ...message, bundles: unsent } satisfies BatchMessage);
    });
  }

  private answer(slot: Slot, message: WorkerAnswer): void {
    if (message.seq === undefined) return; // the worker says it is ready
    const waiter = this.waiting.get(message.seq);
    this.waiting.delete(message.seq);
    slot.busy--;
    if (message.tally) waiter?.resolve(message.tally);
    else waiter?.reject(new EntitleError(isErrorCode(message.code) ? message.code : 'ENTITLE_INTERNAL', `the backtest could not compare a batch: ${message.error}`));
  }

  private failAll(error: Error): void {
    this.broken ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    for (const slot of this.slots) slot.worker.removeAllListeners('exit');
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }
}

/** The running totals, merged from each batch's tally as it arrives. */
class Totals {
  readonly kinds: Record<ComparisonKind, number> = { identical: 0, expected: 0, unexpected: 0, candidate_error: 0, active_error: 0, both_error: 0 };
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
    for (const e of tally.examples) this.examples.push({ seq: tally.seq, row: e.row, example: toExample(e, ids[e.row]!, applicationIds[e.row]!) });
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

function report(totals: Totals, candidate: RuleSet, options: BacktestOptions): BacktestReport {
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
  const examples = { expected: [], unexpected: [], candidate_error: [], active_error: [], both_error: [] } as Record<Exclude<ComparisonKind, 'identical'>, BacktestExample[]>;
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
      bands: CHANGE_BANDS.map((band, i) => ({ label: band.label, minPence: band.minPence, maxPence: CHANGE_BANDS[i + 1]?.minPence ?? null, gaining: totals.gainBands[i]!, losing: totals.lossBands[i]! })),
    },
    variables: [...totals.variables]
      .map(([variable, [decisions, unexpected]]) => ({ variable, decisions, unexpected }))
      .sort((a, b) => b.decisions - a.decisions || (a.variable < b.variable ? -1 : 1))
      .slice(0, TOP_VARIABLES),
    versions: [...totals.versions].map(([hash, decisions]) => ({ hash, decisions })).sort((a, b) => (a.hash < b.hash ? -1 : 1)),
    examples,
  };
}

async function bundleOf(db: Database, hash: string): Promise<unknown> {
  const bundle = await storedBundle(db, hash);
  if (bundle === undefined) throw new Error(`no rule-set version ${hash} is stored`);
  return bundle;
}

/** Re-evaluates stored decisions under a candidate and reports the differences. */
export async function backtest(db: Database, options: BacktestOptions): Promise<BacktestResult> {
  const started = process.hrtime.bigint();
  const workers = checkOptions(options);
  const candidateBundle = 'bundle' in options.candidate ? options.candidate.bundle : await bundleOf(db, options.candidate.hash);
  const candidate = ruleSetFromBundle(candidateBundle, 'the candidate rule set');
  const bundles = new Map<string, unknown>();
  if (options.baselineHash) bundles.set(options.baselineHash, await bundleOf(db, options.baselineHash));

  const totals = new Totals();
  const range = await decisionRange(db, candidate.benefit, options.window);
  if (!range) return { report: report(totals, candidate, options), workers, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  const total = options.onProgress
    ? Number((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM decisions WHERE benefit = $1 AND id >= $2 AND id <= $3', [candidate.benefit, range.low, range.high])).rows[0]?.n ?? 0)
    : 0;
  options.onProgress?.({ done: 0, total });

  const pool = new Pool(workers, { role: 'entitle-backtest', candidate: candidateBundle, expectations: options.expectations });
  const limit = workers * 2;
  const inFlight = new Set<Promise<void>>();
  let failure: Error | undefined;
  try {
    let seq = 0;
    for await (const rows of decisionBatches(db, candidate.benefit, range, options.batchSize ?? 5_000)) {
      if (failure !== undefined) break;
      seq++;
      // Purged decisions have no inputs to replay: counted, not sent.
      const ids: string[] = [];
      const applicationIds: string[] = [];
      const texts: string[] = [];
      const hashes: string[] = [];
      const baselines = new Uint16Array(rows.length);
      for (const row of rows) {
        if (row.inputs === null) {
          totals.skipped++;
          continue;
        }
        const hash = options.baselineHash ?? row.ruleset_hash;
        let index = hashes.indexOf(hash);
        if (index === -1) index = hashes.push(hash) - 1;
        if (!bundles.has(hash)) bundles.set(hash, await bundleOf(db, hash));
        totals.versions.set(hash, (totals.versions.get(hash) ?? 0) + 1);
        baselines[ids.length] = index;
        ids.push(row.id);
        applicationIds.push(row.application_id);
        texts.push(row.inputs);
      }
      if (ids.length === 0) continue;

      const tracked: Promise<void> = pool
        .run({ seq, inputs: `[${texts.join(',')}]`, baselines: baselines.slice(0, ids.length), hashes }, bundles)
        .then((tally) => {
          totals.add(tally, ids, applicationIds);
          options.onProgress?.({ done: totals.compared + totals.skipped, total });
        })
        .catch((error: unknown) => void (failure ??= error instanceof Error ? error : new Error(String(error))))
        .finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= limit) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await pool.close();
  }
  if (failure !== undefined) throw failure;
  options.onProgress?.({ done: totals.compared + totals.skipped, total });
  return { report: report(totals, candidate, options), workers, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/**
 * What the audit event keeps: the counts, sums and variable names, and the example decisions by
 * id only. The audit chain cannot be purged, so it holds no inputs, values or application ids.
 */
function backtestEvidence(result: BacktestResult): Record<string, unknown> {
  const { examples, ...summary } = result.report;
  return {
    ...summary,
    exampleDecisions: Object.fromEntries(Object.entries(examples).map(([kind, list]) => [kind, list.map((e) => e.decisionId)])),
    workers: result.workers,
    seconds: Math.round(result.seconds * 10) / 10,
  };
}

/**
 * Backtests a release on stored decisions and records the summary on it as evidence, in the audit
 * chain: what `entitle release backtest` and `POST /v1/releases/:id/backtest` do.
 */
export async function backtestRelease(
  db: Database,
  id: string,
  actor: string,
  options: Pick<BacktestOptions, 'window' | 'workers' | 'onProgress'>,
): Promise<{ release: Release; result: BacktestResult }> {
  const release = await getRelease(db, id);
  const result = await backtest(db, { candidate: { hash: release.rulesetHash }, expectations: release.expectations, ...options });
  await db.transaction((tx) =>
    appendAuditEvent(tx, {
      actor,
      action: 'release.backtested',
      subject: release.id,
      reason: `backtest of ${result.report.compared} decisions: ${result.report.kinds.unexpected} unexpected`,
      evidence: backtestEvidence(result),
    }),
  );
  return { release, result };
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The window a person asks for: the last N decisions, or a period of UK dates or times with both
 * days included (a date as `to` means the whole of that day), or, with neither, every decision.
 * `fields` names the options as the caller shows them (`--last` on the command line).
 */
export function backtestWindow(
  spec: { readonly last?: number | string | undefined; readonly from?: string | undefined; readonly to?: string | undefined },
  fields = { last: 'last', from: 'from', to: 'to' },
  now = new Date(),
): BacktestWindow | undefined {
  if (spec.last !== undefined && (spec.from !== undefined || spec.to !== undefined)) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `give ${fields.last} or a period, not both`, [{ field: fields.last, message: `give ${fields.last} N for the most recent decisions, or ${fields.from} and ${fields.to} for a period` }]);
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
