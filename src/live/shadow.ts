/**
 * Shadow evaluation: live applications compared with the release under test off the response
 * path, through a bounded queue, with an A/A check; the counts gathered are taken and added to
 * release_stats by the live releases (live-releases.ts).
 */
import { evaluateSafely, type Comparison, type ComparisonKind, type Evaluation } from '../comparison/index.ts';
import {
  COUNT_OF_KIND,
  EMPTY_STATS,
  sumStats,
  type Release,
  type ReleaseStats,
  type Sample,
  type StatsDelta,
} from '../releases/index.ts';
import type { RuleSet } from '../rules/index.ts';
import { inShadowShare, type Route, type UnderTest } from './routing.ts';

/** Counts for one release since they were last taken: release_stats' counts, with the cases kept. */
interface Tally {
  readonly releaseId: string;
  readonly benefit: string;
  stats: Writable<ReleaseStats>;
  readonly samples: Sample[];
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

export interface ShadowSettings {
  /** Applications waiting to be compared; beyond this, comparisons are dropped and counted. */
  readonly queueLimit: number;
  /** Differing cases kept per release and kind by this instance. */
  readonly samplesPerKind: number;
}

export interface ShadowObserver {
  compared(release: Release, kind: ComparisonKind, aaSame: boolean): void;
  dropped(benefit: string): void;
  queueDepth(depth: number): void;
}

const micros = (from: bigint) => Number(process.hrtime.bigint() - from) / 1_000;

function timed(ruleSet: RuleSet, input: unknown): { evaluation: Evaluation; micros: number } {
  const start = process.hrtime.bigint();
  const evaluation = evaluateSafely(ruleSet, input);
  return { evaluation, micros: micros(start) };
}

/**
 * Shadow evaluation, off the response path: the route handler hands over the application after
 * the citizen's decision is recorded, and the comparison runs later on the event loop, a few at a
 * time, so it never delays a response by more than one small batch. The queue is bounded: under
 * pressure comparisons are dropped (and counted), never the citizens' decisions.
 */
export class ShadowEvaluator {
  private readonly queue: { test: UnderTest; input: unknown; applicationId: string }[] = [];
  private readonly tallies = new Map<string, Tally>();
  private readonly kept = new Map<string, number>();
  private scheduled = false;

  constructor(
    private readonly settings: ShadowSettings,
    private readonly observer: ShadowObserver,
  ) {}

  /**
   * Offers one live application for comparison. Canary applications are always compared (a
   * citizen's decision came from the candidate); others at the release's shadow share.
   */
  offer(route: Route, input: unknown, applicationId: string): void {
    const test = route.test;
    if (!test) return;
    if (!route.byCandidate && !inShadowShare(test.release.id, applicationId, test.release.shadowSharePpm)) return;
    // Canary applications were decided by the candidate: they may use twice the queue before one
    // is dropped, so what citizens actually receive is the last thing left unwatched.
    if (this.queue.length >= this.settings.queueLimit * (route.byCandidate ? 2 : 1)) {
      this.observer.dropped(test.release.benefit);
      return;
    }
    this.queue.push({ test, input, applicationId });
    this.observer.queueDepth(this.queue.length);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.work());
    }
  }

  /** Takes the counts gathered since the last call (to be added to release_stats). */
  take(): StatsDelta[] {
    const taken = [...this.tallies.values()];
    this.tallies.clear();
    return taken;
  }

  /** Puts back counts that could not be stored, so none are lost when the database blips. */
  restore(tallies: readonly StatsDelta[]): void {
    for (const t of tallies) {
      const current = this.tallyFor(t.releaseId, t.benefit);
      current.stats = sumStats(current.stats, t.stats);
      current.samples.push(...t.samples);
    }
  }

  /** Drops the per-release sample counters of releases no longer under test. */
  forget(underTest: ReadonlySet<string>): void {
    for (const key of this.kept.keys()) if (!underTest.has(key.slice(0, key.indexOf('/')))) this.kept.delete(key);
  }

  /** Waits until every queued comparison is made (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.queue.length > 0 || this.scheduled) await new Promise((r) => setImmediate(r));
  }

  get depth(): number {
    return this.queue.length;
  }

  private work(): void {
    // A small batch per turn of the event loop: responses waiting on I/O go in between.
    for (let n = 0; n < 16 && this.queue.length > 0; n++) {
      const item = this.queue.shift()!;
      this.compareOne(item.test, item.input, item.applicationId);
    }
    this.observer.queueDepth(this.queue.length);
    if (this.queue.length > 0) setImmediate(() => this.work());
    else this.scheduled = false;
  }

  private compareOne(test: UnderTest, input: unknown, applicationId: string): void {
    const application =
      test.on === undefined ? input : { ...(input as Record<string, unknown>), assessmentDate: test.on };
    const active = timed(test.comparator.active, application);
    const candidate = timed(test.comparator.candidate, application);
    const twin = evaluateSafely(test.twin.candidate, application);
    const comparison = test.comparator.compareEvaluations(active.evaluation, candidate.evaluation);
    const aaSame =
      test.twin.compareEvaluations(active.evaluation, twin).kind ===
      ('error' in active.evaluation ? 'both_error' : 'identical');
    const tally = this.tallyFor(test.release.id, test.release.benefit);
    const stats = tally.stats;
    stats[COUNT_OF_KIND[comparison.kind]] += 1;
    if (aaSame) stats.aaIdentical += 1;
    else stats.aaDifferent += 1;
    if (!('error' in active.evaluation) && !('error' in candidate.evaluation)) {
      stats.activeMicros += active.micros;
      stats.candidateMicros += candidate.micros;
      stats.timed += 1;
    }
    if (comparison.kind === 'unexpected') stats.firstUnexpectedAt ??= new Date().toISOString();
    this.observer.compared(test.release, comparison.kind, aaSame);
    if (comparison.kind !== 'identical') this.keepSample(test, tally, comparison, application, applicationId);
  }

  private keepSample(
    test: UnderTest,
    tally: Tally,
    comparison: Comparison,
    application: unknown,
    applicationId: string,
  ): void {
    const key = `${test.release.id}/${comparison.kind}`;
    const kept = this.kept.get(key) ?? 0;
    if (kept >= this.settings.samplesPerKind) return;
    this.kept.set(key, kept + 1);
    tally.samples.push({
      kind: comparison.kind,
      applicationId,
      inputs: application,
      comparison,
      activeTrace: traceOf(test.comparator.active, application),
      candidateTrace: traceOf(test.comparator.candidate, application),
      recordedAt: new Date().toISOString(),
    });
  }

  private tallyFor(releaseId: string, benefit: string): Tally {
    let tally = this.tallies.get(releaseId);
    if (!tally) {
      tally = { releaseId, benefit, stats: { ...EMPTY_STATS }, samples: [] };
      this.tallies.set(releaseId, tally);
    }
    return tally;
  }
}

function traceOf(ruleSet: RuleSet, input: unknown): unknown {
  try {
    return ruleSet.assess(input, 'trace');
  } catch {
    return null;
  }
}
