export { compileRuleSetDir, findRuleSetDirs, loadRuleSet, loadRuleSets, ruleSetFromBundle } from './load.ts';
export { RuleSet, ENGINE, type Assessment, type ExplainLevel } from './rule-set.ts';
export type { Trace, TracedParameter, TracedVariable } from './trace.ts';
