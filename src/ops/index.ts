/**
 * Operations as code: citizen-journey SLOs and the Prometheus rules, promtool tests and
 * Alertmanager configuration generated from them. This is the module's public surface.
 */
export { ALERTMANAGER_FILE, generate, generatedFiles, RULES_FILE, TESTS_DIR, type OpsOptions } from './generate.ts';
export { alertNames, burnAlertName, ruleGroups, type AlertRule, type RuleGroup } from './rules.ts';
export { budget, SLOS, TIERS, type Slo, type Tier, type TierName } from './slos.ts';
