import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The live releases' metrics, on the registry they are given. */
export function liveMetrics(registry: Registry) {
  return {
    comparisons: new Counter({
      name: 'entitle_release_comparisons_total',
      help: 'Shadow and canary comparisons of a release with the active version, by kind (identical, expected, unexpected, candidate_error, active_error, both_error).',
      labelNames: ['release', 'benefit', 'kind'] as const,
      registers: [registry],
    }),
    aaChecks: new Counter({
      name: 'entitle_release_aa_checks_total',
      help: 'A/A checks (the active version against a separate copy of itself) by result (same, different). Any "different" means the comparisons are not reliable.',
      labelNames: ['release', 'benefit', 'result'] as const,
      registers: [registry],
    }),
    dropped: new Counter({
      name: 'entitle_release_shadow_dropped_total',
      help: 'Shadow comparisons dropped because the queue was full (citizen decisions are never dropped).',
      labelNames: ['benefit'] as const,
      registers: [registry],
    }),
    queue: new Gauge({
      name: 'entitle_release_shadow_queue_depth',
      help: 'Applications waiting for shadow comparison.',
      registers: [registry],
    }),
    rollbacks: new Counter({
      name: 'entitle_release_automatic_rollbacks_total',
      help: 'Releases this instance rolled back on its own because their gates failed.',
      labelNames: ['benefit'] as const,
      registers: [registry],
    }),
    rollbackSeconds: new Histogram({
      name: 'entitle_release_rollback_delay_seconds',
      help: "Time from a rolled-back release's first unexpected difference to its automatic rollback.",
      buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers: [registry],
    }),
    verdict: new Gauge({
      name: 'entitle_release_gate_verdict',
      help: 'The latest gate verdict for each release under test: 1 for the verdict it has (pass, fail, inconclusive), 0 for the others.',
      labelNames: ['release', 'benefit', 'verdict'] as const,
      registers: [registry],
    }),
    served: new Gauge({
      name: 'entitle_ruleset_served',
      help: 'The rule-set version this instance serves for each benefit (1), by role (active, candidate).',
      labelNames: ['benefit', 'ruleset', 'role'] as const,
      registers: [registry],
    }),
    scheduleCancelled: new Counter({
      name: 'entitle_release_schedule_cancelled_total',
      help: 'Scheduled promotions refused at their effective time (not approved, gates failed, frozen); the current version still decides.',
      labelNames: ['benefit'] as const,
      registers: [registry],
    }),
    scheduleWaiting: new Gauge({
      name: 'entitle_release_schedule_waiting',
      help: 'Releases past their effective time still waiting for enough comparisons to be promoted.',
      labelNames: ['benefit'] as const,
      registers: [registry],
    }),
    reloadFailures: new Counter({
      name: 'entitle_release_reload_failures_total',
      help: 'Times this instance could not load a rule-set version it was told to serve or compare; it keeps the version it had.',
      labelNames: ['benefit'] as const,
      registers: [registry],
    }),
    switchLag: new Histogram({
      name: 'entitle_ruleset_switch_seconds',
      help: 'Time from a promotion or rollback being committed to this instance serving it.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
