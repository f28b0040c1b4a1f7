export {
  BUNDLE_FORMAT,
  HOUSEHOLD_FILE,
  householdFileOf,
  PARAMETERS_FILE,
  RULESET_FILE,
  checkBundle,
  hashBundle,
  pathLocators,
  readRuleSetDir,
  type BundleLocators,
  type HouseholdLookup,
  type RuleSetBundle,
  type RuleSetSource,
} from './bundle.ts';
export type {
  FieldSpec,
  HouseholdFile,
  InputsSpec,
  ListInputSpec,
  ParameterSpec,
  ParameterValueSpec,
  ParametersFile,
  ReasonSpec,
  RuleSetFile,
  VariableSpec,
} from './schema.ts';
export { parseYamlSource, type Locator, type Path, type YamlSource } from './yaml-source.ts';
export { checkShape } from './schema.ts';
export { referenceKey } from './references.ts';
