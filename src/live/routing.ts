/**
 * Which version decides each application, held in memory: the active version of each benefit,
 * and the release under test with everything its comparisons need already compiled. Canary and
 * shadow shares are chosen by a stable hash of the application reference, never by chance.
 */
import { createHash } from 'node:crypto';
import { Comparator, NO_CHANGES } from '../comparison/index.ts';
import type { Assignment } from '../decisions/index.ts';
import { percentText, type Release } from '../releases/index.ts';
import type { RuleSet } from '../rules/index.ts';
import { londonDate } from '../uk-time/index.ts';

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
  return {
    active: routing.active,
    route: (benefit, applicationId) => routing.route(benefit, applicationId),
    compareLater: () => undefined,
  };
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

  get(
    benefit: string,
  ):
    | { readonly active: RuleSet; readonly activeReleaseId: string | null; readonly test: UnderTest | undefined }
    | undefined {
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
        assignment: {
          releaseId: release.id,
          bucket,
          reason: `in the canary: bucket ${bucket} is below ${release.canaryBasisPoints} (${percentText(release.canaryBasisPoints)})`,
        },
        test,
        byCandidate: true,
      };
    }
    return {
      ruleSet: active,
      assignment: {
        releaseId: activeReleaseId,
        bucket,
        reason: `not in the canary of release ${release.id}: bucket ${bucket} is not below ${release.canaryBasisPoints} (${percentText(release.canaryBasisPoints)})`,
      },
      test,
      byCandidate: false,
    };
  }
}
