export { compileBundle, MAX_PROBLEMS, type CompileResult, type CompiledVariable, type RuleProgram } from './compile.ts';
export { compileParameters, type ParameterSnapshot, type ParameterTable } from './parameters.ts';
export {
  EvaluationFault,
  fieldName,
  MissingParameter,
  unknownField,
  type EngineOverrides,
  type Outcome,
  type ProgramFunctions,
} from './runtime.ts';
