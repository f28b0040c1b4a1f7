export { errorRegistry, type ErrorCode, type ErrorDefinition } from './registry.ts';
export { EntitleError, formatProblem, type Problem } from './entitle-error.ts';
export { renderErrorDocs } from './docs.ts';
