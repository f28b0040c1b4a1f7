export {
  BUNDLE_FORMAT,
  PARAMETERS_FILE,
  RULESET_FILE,
  checkBundle,
  hashBundle,
  pathLocators,
  readRuleSetDir,
  type BundleLocators,
  type RuleSetBundle,
  type RuleSetSource,
} from './bundle.ts';
export type {
  FieldSpec,
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
