/**
 * Watching the live service from outside it: error budgets read from Prometheus, readiness and
 * open incidents (`entitle status`), the weekly report, and the synthetic journeys run against the
 * service (`entitle probe` on a schedule, `entitle smoke` after a deploy).
 */
export {
  formatStatus,
  PrometheusClient,
  statusFromPrometheus,
  statusFromService,
  type StatusReport,
} from './status.ts';
export { historyFromDatabase, type OperationsHistory } from './history.ts';
export { weeklyReport } from './report.ts';
export { Probe, PROBE_EXPECTED_PENCE, PROBE_PREFIX, SINGLE_ADULT_NO_INCOME, type JourneyResult } from './probe.ts';
export { formatSmoke, smoke, type SmokeReport, type SmokeStep } from './smoke.ts';
export {
  DEFAULT_WATCH,
  DeployWatcher,
  WATCH_BURN_RATE,
  type Breach,
  type DeployWatchSettings,
  type WatchCheck,
  type WatchResult,
} from './deploy-watch.ts';
