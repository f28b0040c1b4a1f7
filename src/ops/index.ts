/**
 * Operations as code: citizen-journey SLOs and failure modes, and the Prometheus rules, promtool
 * tests, Alertmanager configuration and runbooks generated from them. This is the module's public surface.
 */
export { ALERTMANAGER_FILE, DEFAULT_WEBHOOK_KEY_FILE, DEFAULT_WEBHOOK_URL, generate, generatedFiles, RULES_FILE, syncGeneratedFiles, TESTS_DIR, type OpsOptions } from './generate.ts';
export { alertmanagerConfig, alertNames, burnAlertName, ruleGroups, type AlertRule, type RuleGroup } from './rules.ts';
export { budget, SLOS, TIERS, type Slo, type Tier, type TierName } from './slos.ts';
export { FAILURE_MODES, type FailureMode, type Step } from './failure-modes.ts';
export { RUNBOOKS_DIR } from './runbooks.ts';
export { formatStatus, PrometheusClient, statusFromPrometheus, statusFromService, type StatusReport } from './status.ts';
export { Probe, PROBE_EXPECTED_PENCE, PROBE_PREFIX, SINGLE_ADULT_NO_INCOME, type JourneyResult } from './probe.ts';
export { citizenDashboard, DASHBOARD_FILE } from './dashboards.ts';
export { weeklyReport } from './report.ts';
export { formatSmoke, smoke, type SmokeReport, type SmokeStep } from './smoke.ts';
