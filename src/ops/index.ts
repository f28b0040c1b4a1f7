/**
 * Operations as code: the failure modes, and the Prometheus rules, promtool tests, Alertmanager
 * configuration, runbooks and dashboard generated from them and the SLOs (src/slos). This is the
 * module's public surface.
 */
export {
  ALERTMANAGER_FILE,
  DEFAULT_WEBHOOK_KEY_FILE,
  DEFAULT_WEBHOOK_URL,
  generate,
  generatedFiles,
  RULES_FILE,
  syncGeneratedFiles,
  TESTS_DIR,
  type OpsOptions,
} from './generate.ts';
export {
  alertmanagerConfig,
  alertNames,
  burnAlertName,
  ruleGroups,
  SCHEDULED_JOB_PERIODS,
  type AlertRule,
  type RuleGroup,
} from './rules.ts';
export { FAILURE_MODES, type FailureMode, type Step } from './failure-modes.ts';
export { RUNBOOKS_DIR } from './runbooks.ts';
export { citizenDashboard, DASHBOARD_FILE } from './dashboards.ts';
