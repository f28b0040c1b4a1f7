import type { Registry } from 'prom-client';
import type { Admission, Degradation } from '../capacity/index.ts';
import type { ChainProblem, DecisionWriter } from '../decisions/index.ts';
import type { LiveFlags } from '../flags/index.ts';
import type { FailureRecorder } from '../incidents/index.ts';
import type { ApiKey, KeyVerifier, Role } from '../keys/index.ts';
import type { RuleRouter } from '../live/index.ts';
import type { VerifierKey } from '../log/index.ts';
import type { RuleSet } from '../rules/index.ts';
import type { Database } from '../store/index.ts';
import type { ServiceMetrics } from './metrics.ts';

/** What every route needs, built once by the service (src/service) and passed to buildApp (no globals). */
export interface ServiceContext {
  readonly db: Database;
  /** Which rule set decides each application, and the comparison with a release under test. */
  readonly rules: RuleRouter;
  /** The active rule set of each benefit, kept current through promotions and rollbacks. */
  readonly ruleSets: ReadonlyMap<string, RuleSet>;
  readonly writer: DecisionWriter;
  readonly keys: KeyVerifier;
  readonly metrics: ServiceMetrics;
  readonly registry: Registry;
  readonly migrationsCurrent: () => Promise<boolean>;
  /** Assessments that failed on the service's side, kept for incident impact. */
  readonly failures: FailureRecorder;
  /** Feature flags as this instance follows them, read through OpenFeature. */
  readonly flags: LiveFlags;
  /** Admission control and graceful degradation for this instance. */
  readonly capacity: { readonly admission: Admission; readonly degradation: Degradation };
  /**
   * `shuttingDown` is set on SIGTERM: /ready answers 503 at once so load balancers stop routing
   * here. `closing` is set when the server stops taking requests: each then gets 503.
   */
  readonly state: { shuttingDown: boolean; closing: boolean };
  /** The verifiable log: the key its checkpoints are checked with, and their origin. */
  /**
   * The log's published verifier key, and every key whose signature on a checkpoint is accepted
   * (while a key is rotated, and retired keys: ENTITLE_LOG_RETIRED_KEYS).
   */
  readonly log: { readonly verifier: VerifierKey; readonly verifiers: readonly VerifierKey[]; readonly origin: string };
  /** Says the record failed its integrity check somewhere (a read): entitle_chain_intact drops to 0. */
  readonly integrity: { failed(problem: ChainProblem): void };
}

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKey | null;
  }
  interface FastifyContextConfig {
    /** Roles that may call the route; absent for public routes (health, readiness, metrics). */
    roles?: readonly Role[];
    /**
     * A report or replay endpoint: refused with 503 (ENTITLE_DEGRADED) when the replay-and-reports
     * flag is off or pressure has dropped that step.
     */
    report?: boolean;
  }
}
