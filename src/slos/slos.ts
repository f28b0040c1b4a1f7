/**
 * Service-level objectives, stated as citizen journeys: the one typed definition the Prometheus
 * rules, their promtool tests and (later) dashboards and runbooks are generated from. Each SLI
 * is a ratio of bad events to all events, from the service's own metrics.
 */

/** Citizen-centred priority (docs: ../shared/brief/OPERATIONS.md, GDS Way response times). */
export type Priority = 'P1' | 'P2' | 'P3' | 'P4';

/**
 * The four alerting tiers of the SRE Workbook's multi-window, multi-burn-rate alerts, and a fifth
 * that pages at a lower burn rate only in the 24 hours after a deploy (the heightened window).
 */
export type TierName = 'page-fast' | 'page-after-deploy' | 'page-slow' | 'ticket-fast' | 'ticket-slow';

export interface Tier {
  readonly name: TierName;
  /** How many times faster than "exactly spends the budget over the period" the budget burns. */
  readonly burnRate: number;
  readonly longWindow: Window;
  readonly shortWindow: Window;
  readonly severity: 'page' | 'ticket';
  /** The alert must hold this long before it fires. */
  readonly for: string;
  /** Only while entitle_deploy_heightened is 1: the 24 hours after a deploy or rollback. */
  readonly afterDeployOnly?: boolean;
}

export type Window = '5m' | '30m' | '1h' | '2h' | '6h' | '1d' | '3d';
export const WINDOWS: readonly Window[] = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];

/** SRE Workbook, chapter 5, table 5-8, for a 28-day (here 30-day-shaped) period. */
export const TIERS: readonly Tier[] = [
  { name: 'page-fast', burnRate: 14.4, longWindow: '1h', shortWindow: '5m', severity: 'page', for: '2m' },
  // A new build that spends budget three times too fast pages at once, rather than after six hours.
  {
    name: 'page-after-deploy',
    burnRate: 3,
    longWindow: '1h',
    shortWindow: '5m',
    severity: 'page',
    for: '5m',
    afterDeployOnly: true,
  },
  { name: 'page-slow', burnRate: 6, longWindow: '6h', shortWindow: '30m', severity: 'page', for: '15m' },
  { name: 'ticket-fast', burnRate: 3, longWindow: '1d', shortWindow: '2h', severity: 'ticket', for: '1h' },
  { name: 'ticket-slow', burnRate: 1, longWindow: '3d', shortWindow: '6h', severity: 'ticket', for: '3h' },
];

export interface Slo {
  /** Stable identifier, used in rule names and labels: lower case and underscores. */
  readonly id: string;
  /** The citizen journey, in their words. */
  readonly journey: string;
  /** The journey as the public status page names it. */
  readonly publicName?: string;
  /** What is promised, in plain English. */
  readonly objectiveText: string;
  /** The share of events that must be good, such as 0.999. */
  readonly objective: number;
  readonly periodDays: number;
  /** PromQL for the rate of bad events over `[w]` (the window is substituted for `$w`). */
  readonly bad: string;
  /** PromQL for the rate of all events over `[w]`. */
  readonly total: string;
  /** Below this many events a second over the long window, the ratio is noise: no alert. */
  readonly minEventsPerSecond: number;
  /**
   * Counter series that produce `good` and `bad` events a minute, for the generated promtool
   * tests: each is a series selector and how much it grows a minute.
   */
  readonly testSeries: (
    good: number,
    bad: number,
  ) => readonly { readonly series: string; readonly perMinute: number }[];
  /** Priorities of a page and of a ticket for this journey. */
  readonly priority: { readonly page: Priority; readonly ticket: Priority };
  /** What a citizen experiences while this SLO burns. */
  readonly citizenImpact: string;
  /** Tiers switched on for this SLO (all by default). */
  readonly tiers: readonly TierName[];
}

const ALL_TIERS: readonly TierName[] = TIERS.map((t) => t.name);
const ASSESSMENTS = 'entitle_http_request_duration_seconds_count{route="/v1/assessments"}';

export const SLOS: readonly Slo[] = [
  {
    id: 'assessment_availability',
    journey: 'A citizen gets an assessment',
    publicName: 'Getting a decision about your benefit',
    objectiveText:
      '99.9% of assessment requests get a recorded decision or a clear answer about their input, over 28 days',
    objective: 0.999,
    periodDays: 28,
    bad: 'sum(rate(entitle_http_request_duration_seconds_count{route="/v1/assessments",status=~"5.."}[$w]))',
    total: `sum(rate(${ASSESSMENTS}[$w]))`,
    minEventsPerSecond: 0.05,
    testSeries: (good, bad) => [
      { series: 'entitle_http_request_duration_seconds_count{route="/v1/assessments",status="201"}', perMinute: good },
      { series: 'entitle_http_request_duration_seconds_count{route="/v1/assessments",status="503"}', perMinute: bad },
    ],
    priority: { page: 'P1', ticket: 'P3' },
    citizenImpact:
      'Citizens applying for a benefit are told the service cannot give them a decision now, and must try again later.',
    tiers: ALL_TIERS,
  },
  {
    id: 'assessment_latency',
    journey: 'A citizen gets an assessment quickly',
    publicName: 'Getting your decision without a long wait',
    objectiveText: '99% of assessments are answered within 500 ms, over 28 days',
    objective: 0.99,
    periodDays: 28,
    bad: `(sum(rate(${ASSESSMENTS}[$w])) - sum(rate(entitle_http_request_duration_seconds_bucket{route="/v1/assessments",le="0.5"}[$w])))`,
    total: `sum(rate(${ASSESSMENTS}[$w]))`,
    minEventsPerSecond: 0.05,
    testSeries: (good, bad) => [
      {
        series: 'entitle_http_request_duration_seconds_count{route="/v1/assessments",status="201"}',
        perMinute: good + bad,
      },
      {
        series: 'entitle_http_request_duration_seconds_bucket{route="/v1/assessments",status="201",le="0.5"}',
        perMinute: good,
      },
    ],
    priority: { page: 'P2', ticket: 'P3' },
    citizenImpact: 'Citizens wait longer for their assessment; front ends may time out and ask them to try again.',
    tiers: ALL_TIERS,
  },
  {
    id: 'decisions_recorded',
    journey: 'Every decision is recorded and verifiable',
    publicName: 'Keeping a record of your decision',
    objectiveText:
      '99.99% of decisions are committed to the hash chain, over 28 days (a decision not recorded is never returned)',
    objective: 0.9999,
    periodDays: 28,
    bad: 'sum(rate(entitle_decision_write_failures_total[$w]))',
    total: 'sum(rate(entitle_decision_batch_size_sum[$w]))',
    minEventsPerSecond: 0.05,
    testSeries: (good, bad) => [
      { series: 'entitle_decision_batch_size_sum', perMinute: good + bad },
      { series: 'entitle_decision_write_failures_total', perMinute: bad },
    ],
    priority: { page: 'P1', ticket: 'P3' },
    citizenImpact: 'Citizens cannot get a decision: the service refuses to answer with a decision it could not record.',
    tiers: ALL_TIERS,
  },
  {
    id: 'decisions_consistent',
    journey: 'Decisions are consistent and reproducible',
    publicName: 'Decisions following the published rules',
    objectiveText:
      'At most 0.1% of release comparisons differ unexpectedly or fail only under the candidate, and replays reproduce recorded decisions',
    objective: 0.999,
    periodDays: 28,
    bad: '(sum(rate(entitle_release_comparisons_total{kind=~"unexpected|candidate_error"}[$w])) or vector(0)) + (sum(rate(entitle_replays_total{result="mismatch"}[$w])) or vector(0))',
    total:
      '(sum(rate(entitle_release_comparisons_total[$w])) or vector(0)) + (sum(rate(entitle_replays_total{result=~"match|mismatch"}[$w])) or vector(0))',
    minEventsPerSecond: 0.05,
    testSeries: (good, bad) => [
      {
        series: 'entitle_release_comparisons_total{release="r",benefit="universal-credit",kind="identical"}',
        perMinute: good,
      },
      {
        series: 'entitle_release_comparisons_total{release="r",benefit="universal-credit",kind="unexpected"}',
        perMinute: bad,
      },
    ],
    priority: { page: 'P1', ticket: 'P2' },
    citizenImpact:
      'Citizens may be getting decisions that differ from what the published rules say, or a decision could not be reproduced for a challenge.',
    tiers: ALL_TIERS,
  },
];

/**
 * "A bad release is undone quickly" is counted in rare events (rollbacks), for which burn rates
 * mean nothing: it is a threshold, any automatic rollback slower than this is a ticket.
 */
export const ROLLBACK_WITHIN_SECONDS = 60;

/** Error budget: the share of events allowed to be bad. */
export function budget(slo: Slo): number {
  return 1 - slo.objective;
}
