import type { Expectations } from '../comparison/index.ts';
import { EntitleError } from '../errors/index.ts';

/**
 * A release's life: draft -> validated (compiled, golden tests pass) -> shadow -> canary -> active
 * -> superseded, or rejected, or rolled-back. Every step is recorded in the audit chain.
 */
export type ReleaseState =
  'draft' | 'validated' | 'shadow' | 'canary' | 'active' | 'superseded' | 'rejected' | 'rolled-back';

/** The steps open from each state. Shadow and canary may be repeated to change their share. */
export const TRANSITIONS: Readonly<Record<ReleaseState, readonly ReleaseState[]>> = {
  draft: ['validated', 'rejected'],
  validated: ['shadow', 'rejected'],
  shadow: ['shadow', 'canary', 'active', 'rolled-back', 'rejected'],
  canary: ['canary', 'active', 'rolled-back'],
  active: ['superseded', 'rolled-back'],
  superseded: [],
  rejected: [],
  'rolled-back': [],
};

/** States in which a release is compared with live traffic. */
export const UNDER_TEST: readonly ReleaseState[] = ['shadow', 'canary'];

export interface Approval {
  readonly kind: 'promotion' | 'emergency';
  readonly approver: string;
  readonly reason: string;
  readonly approvedAt: string;
}

export interface Release {
  readonly id: string;
  readonly benefit: string;
  readonly rulesetHash: string;
  readonly rulesetId: string;
  readonly author: string;
  readonly summary: string;
  /** ISO 8601 UTC instant. */
  readonly effectiveAt: string;
  readonly expectations: Expectations;
  readonly state: ReleaseState;
  readonly baselineHash: string | null;
  readonly baselineReleaseId: string | null;
  readonly shadowSharePpm: number;
  readonly preview: boolean;
  readonly canaryBasisPoints: number;
  readonly promoteAt: string | null;
  /** When it first entered shadow: the start of its minimum shadow window. */
  readonly shadowStartedAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly approvals: readonly Approval[];
}

export function checkTransition(release: Release, to: ReleaseState): void {
  if (TRANSITIONS[release.state].includes(to)) return;
  const open = TRANSITIONS[release.state];
  throw new EntitleError(
    'ENTITLE_RELEASE_TRANSITION_INVALID',
    `release ${release.id} is ${release.state} and cannot become ${to}`,
    [
      {
        field: 'state',
        message:
          open.length > 0
            ? `from ${release.state} it can become: ${open.join(', ')}`
            : `${release.state} is final: create a new release instead`,
      },
    ],
  );
}

/** The canary's share as a percentage, for people: 250 basis points is "2.5%". */
export function percentText(basisPoints: number): string {
  return `${basisPoints / 100}%`;
}
