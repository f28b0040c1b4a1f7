import { createHash } from 'node:crypto';
import type { Assignment } from '../decisions/index.ts';
import type { RuleSet } from '../rules/index.ts';
import { Comparator, evaluateSafely, type Comparison, type ComparisonKind, type Evaluation } from './compare.ts';
import { NO_CHANGES } from './expectations.ts';
import { londonDate } from '../uk-time/index.ts';
import { percentText, type Release } from './model.ts';

/** Buckets in the canary order: a canary of N basis points takes the buckets below N. */
export const BUCKETS = 10_000;

/**
 * An application's place in a release's canary order, from 0 to 9,999: a stable hash of the
 * release and the application reference. The same application always gets the same bucket for
 * the same release, so it keeps its version while the canary lasts, and a canary that grows from
 * 5% to 20% keeps every application it had.
 */
export function canaryBucket(releaseId: string, applicationId: string): number {
  return placeOf(releaseId, applicationId) % BUCKETS;
}

/**
 * Whether an application is in a release's shadow share (parts per million). Chosen by a hash,
 * like the canary, not by chance: the same applications are compared every time, and a test or
 * an investigation can say which ones were. A different salt keeps it independent of the canary.
 */
export function inShadowShare(releaseId: string, applicationId: string, sharePpm: number): boolean {
  return placeOf(`shadow:${releaseId}`, applicationId) % 1_000_000 < sharePpm;
}

function placeOf(salt: string, applicationId: string): number {
  return createHash('sha256').update(salt).update('\u0000').update(applicationId).digest().readUInt32BE(0);
}

/** A release compared with live traffic, with everything its comparisons need already compiled. */
export interface UnderTest {
  readonly release: Release;
  readonly candidate: RuleSet;
  readonly comparator: Comparator;
  /**
   * The A/A check: the active version against a second, separately compiled copy of itself. Any
   * difference it finds is noise in the comparison machinery, not a policy change.
   */
  readonly twin: Comparator;
  /** The date comparisons are made at when previewing the release's effective date. */
  readonly on: string | undefined;
}

export function underTest(release: Release, active: RuleSet, twin: RuleSet, candidate: RuleSet): UnderTest {
  return {
    release,
    candidate,
    comparator: new Comparator(active, candidate, release.expectations),
    twin: new Comparator(active, twin, NO_CHANGES),
    on: release.preview ? londonDate(release.effectiveAt) : undefined,
  };
}

/** Which version decides one application, and why. */
export interface Route {
  readonly ruleSet: RuleSet;
  /** Recorded with the decision whenever a release is involved. */
  readonly assignment: Assignment | undefined;
  /** The release under test for this benefit, if any: the application is compared with it. */
  readonly test: UnderTest | undefined;
  /** True when the candidate, not the active version, decides (the application is in the canary). */
  readonly byCandidate: boolean;
}

/** What the HTTP service needs to decide with: the live releases, or fixed rule sets in tests. */
export interface RuleRouter {
  /** The active rule set of each benefit, kept current. */
  readonly active: ReadonlyMap<string, RuleSet>;
  route(benefit: string, applicationId: string): Route | undefined;
  /** Hands a decided application over for comparison with the release under test, if any. */
  compareLater(route: Route, input: unknown, applicationId: string): void;
}

/** Rule sets that never change and are never compared: commands and tests with no releases. */
export function fixedRouter(ruleSets: ReadonlyMap<string, RuleSet>): RuleRouter {
  const routing = new Routing();
  for (const [benefit, ruleSet] of ruleSets) routing.set(benefit, ruleSet, null, undefined);
  return { active: routing.active, route: (benefit, applicationId) => routing.route(benefit, applicationId), compareLater: () => undefined };
}

interface BenefitRoutes {
  readonly active: RuleSet;
  readonly activeReleaseId: string | null;
  readonly test: UnderTest | undefined;
}

/**
 * Which rule set decides each application, held in memory and swapped whole: a promotion or a
 * rollback replaces one benefit's entry, so switching versions is a pointer switch, and the
 * version to return to is always compiled and loaded.
 */
export class Routing {
  /** The active rule set of each benefit; updated in place, so holders always see the current one. */
  readonly active = new Map<string, RuleSet>();
  private readonly routes = new Map<string, BenefitRoutes>();

  set(benefit: string, active: RuleSet, activeReleaseId: string | null, test: UnderTest | undefined): void {
    this.routes.set(benefit, { active, activeReleaseId, test });
    this.active.set(benefit, active);
  }

  get(benefit: string): { readonly active: RuleSet; readonly activeReleaseId: string | null; readonly test: UnderTest | undefined } | undefined {
    return this.routes.get(benefit);
  }

  route(benefit: string, applicationId: string): Route | undefined {
    const routes = this.routes.get(benefit);
    if (!routes) return undefined;
    const { active, activeReleaseId, test } = routes;
    if (!test || test.release.state !== 'canary') {
      const assignment = activeReleaseId ? { releaseId: activeReleaseId, reason: 'the active version' } : undefined;
      return { ruleSet: active, assignment, test, byCandidate: false };
    }
    const { release } = test;
    const bucket = canaryBucket(release.id, applicationId);
    if (bucket < release.canaryBasisPoints) {
      return {
        ruleSet: test.candidate,
        assignment: { releaseId: release.id, bucket, reason: `in the canary: bucket ${bucket} is below ${release.canaryBasisPoints} (${percentText(release.canaryBasisPoints)})` },
        test,
        byCandidate: true,
      };
    }
    return {
      ruleSet: active,
      assignment: { releaseId: activeReleaseId, bucket, reason: `not in the canary of release ${release.id}: bucket ${bucket} is not below ${release.canaryBasisPoints} (${percentText(release.canaryBasisPoints)})` },
      test,
      byCandidate: false,
    };
  }
}

/** Comparison counts for one release since they were last taken, as release_stats holds them. */
export interface Tally {
  readonly releaseId: string;
  readonly benefit: string;
  counts: Record<ComparisonKind, number>;
  aaIdentical: number;
  aaDifferent: number;
  activeMicros: number;
  candidateMicros: number;
  timed: number;
  firstUnexpectedAt: string | null;
  samples: Sample[];
}

/** A differing case kept with both traces, for people to examine. Holds personal data. */
export interface Sample {
  readonly kind: ComparisonKind;
  readonly applicationId: string;
  readonly inputs: unknown;
  readonly comparison: Comparison;
  readonly activeTrace: unknown;
  readonly candidateTrace: unknown;
  readonly recordedAt: string;
}

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
  take(): Tally[] {
    const taken = [...this.tallies.values()];
    this.tallies.clear();
    return taken;
  }

  /** Puts back counts that could not be stored, so none are lost when the database blips. */
  restore(tallies: readonly Tally[]): void {
    for (const t of tallies) {
      const current = this.tallyFor(t.releaseId, t.benefit);
      for (const kind of Object.keys(t.counts) as ComparisonKind[]) current.counts[kind] += t.counts[kind];
      current.aaIdentical += t.aaIdentical;
      current.aaDifferent += t.aaDifferent;
      current.activeMicros += t.activeMicros;
      current.candidateMicros += t.candidateMicros;
      current.timed += t.timed;
      current.firstUnexpectedAt ??= t.firstUnexpectedAt;
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
    const application = test.on === undefined ? input : { ...(input as Record<string, unknown>), assessmentDate: test.on };
    const active = timed(test.comparator.active, application);
    const candidate = timed(test.comparator.candidate, application);
    const twin = evaluateSafely(test.twin.candidate, application);
    const comparison = test.comparator.compareEvaluations(active.evaluation, candidate.evaluation);
    const aaSame = test.twin.compareEvaluations(active.evaluation, twin).kind === ('error' in active.evaluation ? 'both_error' : 'identical');
    const tally = this.tallyFor(test.release.id, test.release.benefit);
    tally.counts[comparison.kind] += 1;
    if (aaSame) tally.aaIdentical += 1;
    else tally.aaDifferent += 1;
    if (!('error' in active.evaluation) && !('error' in candidate.evaluation)) {
      tally.activeMicros += active.micros;
      tally.candidateMicros += candidate.micros;
      tally.timed += 1;
    }
    if (comparison.kind === 'unexpected') tally.firstUnexpectedAt ??= new Date().toISOString();
    this.observer.compared(test.release, comparison.kind, aaSame);
    if (comparison.kind !== 'identical') this.keepSample(test, tally, comparison, application, applicationId);
  }

  private keepSample(test: UnderTest, tally: Tally, comparison: Comparison, application: unknown, applicationId: string): void {
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
      tally = {
        releaseId,
        benefit,
        counts: { identical: 0, expected: 0, unexpected: 0, candidate_error: 0, active_error: 0, both_error: 0 },
        aaIdentical: 0,
        aaDifferent: 0,
        activeMicros: 0,
        candidateMicros: 0,
        timed: 0,
        firstUnexpectedAt: null,
        samples: [],
      };
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
