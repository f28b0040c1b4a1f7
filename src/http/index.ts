export { buildApp, DEFAULT_RATE_LIMITS, type AppOptions } from './app.ts';
export type { ServiceContext } from './context.ts';
export { openApiDocument } from './openapi.ts';
export { problemOf, type ProblemDocument } from './problems.ts';
