import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { WriterObserver } from '../decisions/index.ts';
import type { PoolStats } from '../store/index.ts';

/** The service's metrics, registered on the registry it is given (never the global one). */
export interface ServiceMetrics {
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly assessments: Counter<'benefit' | 'outcome' | 'ruleset'>;
  /** Decisions recorded that used a provisional rate, by benefit and parameter. */
  readonly provisionalDecisions: Counter<'benefit' | 'parameter'>;
  readonly writer: WriterObserver;
  /**
   * Replays of recorded decisions by result (match, mismatch: a decision not reproduced, purged)
   * and source (request: one asked for; background: this instance's own, see src/replay/watch.ts).
   */
  readonly replays: Counter<'result' | 'source'>;
  /** Assessments answered with the decision an Idempotency-Key already named (nothing new recorded). */
  readonly idempotentReplays: Counter;
  /** Requests to protected routes without a valid key. */
  readonly authenticationFailures: Counter;
}

export function createServiceMetrics(registry: Registry, pool: () => PoolStats): ServiceMetrics {
  collectDefaultMetrics({ register: registry });
  const requestDuration = new Histogram({
    name: 'entitle_http_request_duration_seconds',
    help: 'HTTP request duration by route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const assessments = new Counter({
    name: 'entitle_assessments_total',
    help: 'Assessments by benefit, outcome (entitled, not_entitled, invalid_input, cannot_assess, not_recorded) and rule-set hash.',
    labelNames: ['benefit', 'outcome', 'ruleset'] as const,
    registers: [registry],
  });
  const provisionalDecisions = new Counter({
    name: 'entitle_provisional_decisions_total',
    help: 'Decisions recorded that used a provisional rate (a figure from secondary sources, not yet confirmed), by benefit and parameter: the decisions to look at again when it is confirmed.',
    labelNames: ['benefit', 'parameter'] as const,
    registers: [registry],
  });
  const writeSeconds = new Histogram({
    name: 'entitle_decision_write_seconds',
    help: 'Time to commit one group of decisions to the hash chain.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'entitle_decision_batch_size',
    help: 'Decisions committed together in one transaction (group commit).',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  const writeFailures = new Counter({
    name: 'entitle_decision_write_failures_total',
    help: 'Decisions that could not be recorded (each got a 503 and no decision).',
    registers: [registry],
  });
  new Gauge({
    name: 'entitle_db_pool_connections',
    help: 'Database connections by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const stats = pool();
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });
  const replays = new Counter({
    name: 'entitle_replays_total',
    help: 'Replays of recorded decisions by result: match, mismatch (the recorded decision was not reproduced), purged (inputs removed); and by source: request (asked for), background (each instance replays recent decisions with its own build, so a canary of a build that decides differently shows it).',
    labelNames: ['result', 'source'] as const,
    registers: [registry],
  });
  // Every series from the start, at 0: Prometheus's increase() misses a series' first sample, so a
  // mismatch series born at 1 on a new pod would go unseen by the watch after a deploy.
  for (const result of ['match', 'mismatch'] as const)
    for (const source of ['request', 'background'] as const) replays.inc({ result, source }, 0);
  const idempotentReplays = new Counter({
    name: 'entitle_assessment_idempotent_replays_total',
    help: 'Assessments answered with the decision their Idempotency-Key already named: retries, nothing new recorded.',
    registers: [registry],
  });
  const authenticationFailures = new Counter({
    name: 'entitle_authentication_failures_total',
    help: 'Requests to a protected route without a valid API key (answered 401, or 429 once an address or key prefix sends more than 60 a minute).',
    registers: [registry],
  });
  const unacknowledged = new Counter({
    name: 'entitle_decisions_unacknowledged_total',
    help: 'Decisions recorded whose client never had the answer, by reason: client_gone (the connection closed first) or deadline (the service answered 503 while the commit was in doubt, and it committed). Listed by GET /v1/decisions/unacknowledged.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  return {
    requestDuration,
    authenticationFailures,
    assessments,
    provisionalDecisions,
    replays,
    idempotentReplays,
    writer: {
      batch(size, seconds, ok) {
        writeSeconds.observe(seconds);
        batchSize.observe(size);
        if (!ok) writeFailures.inc(size);
      },
      unacknowledged(reason, count) {
        unacknowledged.inc({ reason }, count);
      },
    },
  };
}
