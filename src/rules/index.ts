/**
 * The rules engine: rule sets as YAML, compiled to exact, explainable, content-addressed
 * evaluators. This is the module's public surface; everything else in src/rules is internal.
 */
export {
  compileRuleSetDir,
  ENGINE,
  findRuleSetDirs,
  loadRuleSet,
  loadRuleSets,
  ruleSetFromBundle,
  RuleSet,
  type Assessment,
  type ExplainLevel,
  type Trace,
  type TracedParameter,
  type TracedVariable,
} from './engine/index.ts';
export {
  compileBundle,
  type CompileResult,
  type EngineOverrides,
  type Outcome,
  type RuleProgram,
} from './compiler/index.ts';
export {
  checkShape,
  hashBundle,
  householdFileOf,
  parseYamlSource,
  readRuleSetDir,
  type HouseholdLookup,
  type Locator,
  type RuleSetBundle,
} from './format/index.ts';
export { readGoldenCases, runGoldenCase, type GoldenCase, type GoldenResult } from './testing/index.ts';
export { diffBundles, formatDiff, type Change, type RuleSetDiff } from './diff/index.ts';
export { renderFunctionDocs } from './expr/index.ts';
export {
  dateOfDay,
  dayNumber,
  formatIsoDate,
  formatMoney,
  formatRate,
  parseIsoDate,
  poundsText,
  poundsToPence,
} from './values/index.ts';
export {
  parametersOn,
  variablesOf,
  type ParameterInForce,
  type Reference,
  type VariableDescription,
} from './catalogue.ts';
