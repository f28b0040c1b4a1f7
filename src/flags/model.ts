import { createHash } from 'node:crypto';

/**
 * - kill-switch: on by default; turning it off stops non-critical work at once, on every instance.
 * - release: exposes new functionality to a share of applications, sticky by applicationId.
 * - operational: changes how the service protects itself (automatic degradation).
 */
export const FLAG_KINDS = ['kill-switch', 'release', 'operational'] as const;
export type FlagKind = (typeof FLAG_KINDS)[number];

export interface Flag {
  readonly key: string;
  readonly description: string;
  readonly kind: FlagKind;
  /** The team that answers for the flag: who to ask before changing it, and who removes it. */
  readonly owner: string;
  /** YYYY-MM-DD. A flag past it is stale: remove it from the code or give it a new date. */
  readonly expiresOn: string;
  readonly enabled: boolean;
  /** The share of applications it is on for, in basis points (10000 = every application). */
  readonly rolloutBasisPoints: number;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

/** What a change sets; anything left out stays as it is. */
export interface FlagSettings {
  readonly enabled?: boolean;
  readonly rolloutBasisPoints?: number;
  readonly owner?: string;
  readonly expiresOn?: string;
}

export type FlagChangeStatus = 'pending' | 'applied' | 'rejected';

export interface FlagChange {
  readonly id: string;
  readonly flagKey: string;
  readonly status: FlagChangeStatus;
  readonly before: FlagState;
  readonly after: FlagState;
  readonly reason: string;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
}

/** The part of a flag a change can alter, as the audit chain records it before and after. */
export type FlagState = Pick<Flag, 'enabled' | 'rolloutBasisPoints' | 'owner' | 'expiresOn'>;

export function stateOf(flag: Flag): FlagState {
  return {
    enabled: flag.enabled,
    rolloutBasisPoints: flag.rolloutBasisPoints,
    owner: flag.owner,
    expiresOn: flag.expiresOn,
  };
}

/** A flag the code reads, with the value it starts with when first seeded into a database. */
export type DeclaredFlag = Omit<Flag, 'updatedAt' | 'updatedBy'>;

/**
 * Every flag the code reads. Seeded on start (like the rule sets); after that the database holds
 * their values and only audited changes alter them. Kill switches are the degradation steps an
 * operator can also take by hand, in the order automatic degradation takes them.
 */
export const DECLARED_FLAGS: readonly DeclaredFlag[] = [
  {
    key: 'shadow-evaluation',
    description:
      'Compare releases under test with the active rule set on live applications (shadow share). Off: no shadow comparisons; canary applications are still compared.',
    kind: 'kill-switch',
    owner: 'policy-releases',
    expiresOn: '2027-12-31',
    enabled: true,
    rolloutBasisPoints: 10_000,
  },
  {
    key: 'explanation-traces',
    description:
      'Answer POST /v1/assessments?explain=trace with the full explanation trace, for the share of applications rolled out to. Off: the citizen-readable reasons only.',
    kind: 'release',
    owner: 'assessment-service',
    expiresOn: '2027-06-30',
    enabled: true,
    rolloutBasisPoints: 10_000,
  },
  {
    key: 'replay-and-reports',
    description:
      'Serve decision replay and the report endpoints (backtests, affected decisions, incident timelines, impact, reviews, communications). Off: they answer 503 with Retry-After.',
    kind: 'kill-switch',
    owner: 'operations',
    expiresOn: '2027-12-31',
    enabled: true,
    rolloutBasisPoints: 10_000,
  },
  {
    key: 'automatic-degradation',
    description:
      'Let each instance drop shadow evaluation, traces, then replay and reports by itself under pressure, and restore them when it passes. Off: only the flags above decide.',
    kind: 'operational',
    owner: 'operations',
    expiresOn: '2027-12-31',
    enabled: true,
    rolloutBasisPoints: 10_000,
  },
];

export const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Where an application falls in a flag's rollout, 0 to 9999: by a hash of the flag and the
 * application, so the same application gets the same answer on every instance and every time, and
 * each flag's rollout is independent of the others and of release canaries.
 */
export function rolloutBucket(flagKey: string, targetingKey: string): number {
  return (
    createHash('sha256').update(`flag:${flagKey}`).update('\u0000').update(targetingKey).digest().readUInt32BE(0) %
    10_000
  );
}

export type Evaluation = { readonly value: boolean; readonly reason: 'DISABLED' | 'STATIC' | 'SPLIT' | 'DEFAULT' };

/**
 * A flag's value for one application. Below 100% a flag needs the application (the targeting key)
 * to say whether it is in; without one it is off, the safe answer for new functionality.
 */
export function evaluateFlag(flag: Flag, targetingKey: string | undefined): Evaluation {
  if (!flag.enabled) return { value: false, reason: 'DISABLED' };
  if (flag.rolloutBasisPoints >= 10_000) return { value: true, reason: 'STATIC' };
  if (flag.rolloutBasisPoints <= 0) return { value: false, reason: 'SPLIT' };
  if (targetingKey === undefined || targetingKey === '') return { value: false, reason: 'DEFAULT' };
  return { value: rolloutBucket(flag.key, targetingKey) < flag.rolloutBasisPoints, reason: 'SPLIT' };
}

export function percentOf(basisPoints: number): string {
  return `${(basisPoints / 100).toFixed(basisPoints % 100 === 0 ? 0 : 2)}%`;
}

export function isStale(flag: Flag, today: string): boolean {
  return flag.expiresOn < today;
}
