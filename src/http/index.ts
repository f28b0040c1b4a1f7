/**
 * The HTTP API (Fastify): `buildApp` puts the routes, authentication, admission, rate limits and
 * problem documents around a context the service built. This is the module's public surface.
 */
export {
  buildApp,
  routesOf,
  type RouteSummary,
  DEFAULT_RATE_LIMITS,
  HTTP_TIMEOUTS,
  trustProxyFrom,
  type AppOptions,
  type HttpTimeouts,
} from './app.ts';
export type { ServiceContext } from './context.ts';
export { benefitsOf } from './assessments/benefits.ts';
export { createServiceMetrics, type ServiceMetrics } from './metrics.ts';
export { openApiDocument } from './openapi.ts';
export { problemOf, RETRY_AFTER_SECONDS, sendProblem, toEntitleError, type ProblemDocument } from './problems.ts';
