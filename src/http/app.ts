import { isIP } from 'node:net';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Priority } from '../capacity/index.ts';
import { EntitleError } from '../errors/index.ts';
import type { Role } from '../keys/index.ts';
import type { GateSettings } from '../releases/index.ts';
import type { FaultSwitch } from '../store/index.ts';
import type { ServiceContext } from './context.ts';
import { openApiDocument } from './openapi.ts';
import { checkValue, parseJsonBody } from './request-guard.ts';
import { answerClientError, sendProblem, toEntitleError } from './problems.ts';
import { registerAssessments } from './assessments/routes.ts';
import { registerDecisions } from './routes/decisions.ts';
import { registerBackupRoute, registerLog } from './routes/log.ts';
import { registerFlags } from './routes/flags.ts';
import { registerAudit } from './routes/audit.ts';
import { registerRetention } from './routes/retention.ts';
import { registerRules } from './rules-api/routes.ts';
import { registerSubjects } from './subjects/routes.ts';
import { registerDeploys } from './routes/deploys.ts';
import { registerFreezeWindows } from './routes/freeze-windows.ts';
import { registerSimulations } from './routes/simulations.ts';
import { registerIncidents } from './routes/incidents.ts';
import { registerKeys } from './routes/keys.ts';
import { registerOperations } from './routes/operations.ts';
import { registerReleases } from './routes/releases.ts';

export interface AppOptions {
  /** Everything the routes use, built once by the service (src/service) and passed in. */
  readonly context: ServiceContext;
  /** Release gates for promotion through the API (default: from ENTITLE_RELEASE_* settings). */
  readonly gates?: GateSettings;
  /** Tests only: the switch behind POST /test/faults. */
  readonly faults?: FaultSwitch;
  /** Requests a minute per key, by role (a key gets the highest of its roles'). */
  readonly rateLimits?: Partial<Record<Role, number>>;
  readonly bodyLimitBytes?: number;
  /** How long a client has to send its whole request, and its headers (defaults: HTTP_TIMEOUTS). */
  readonly timeouts?: Partial<HttpTimeouts>;
  readonly logLevel?: string;
  /**
   * Which proxies' X-Forwarded-For to believe for the client's address (Fastify's trustProxy):
   * false (default: the address that connected), true, a number of hops, or addresses and CIDRs.
   */
  readonly trustProxy?: boolean | string[];
  /** Where logs go (default standard output); tests capture them here. */
  readonly logStream?: DestinationStream;
  /** Pages served beside the API in their own plugin (the status page and console of src/web). */
  readonly pages?: (app: FastifyInstance, context: ServiceContext) => void;
}

/** Citizen assessments unless the caller marks them batch; everything else is operator traffic. */
function priorityOf(request: FastifyRequest): Priority {
  if (request.routeOptions.url !== '/v1/assessments') return 'operator';
  const header = request.headers['entitle-priority'];
  if (header === undefined || header === 'citizen') return 'citizen';
  if (header === 'batch') return 'batch';
  throw new EntitleError('ENTITLE_INPUT_INVALID', 'the Entitle-Priority header is not valid', [
    {
      field: 'Entitle-Priority',
      message: 'send "batch" for bulk or background assessments, or leave it out for a citizen\'s own',
    },
  ]);
}

/**
 * Default rate limits. An assessor key serves a whole front end, so its limit is far above what
 * one instance can serve; people's keys (caseworkers, auditors) get a human-sized limit.
 */
export const DEFAULT_RATE_LIMITS: Record<Role, number> = {
  assessor: 1_000_000,
  caseworker: 600,
  auditor: 600,
  'policy-author': 600,
  approver: 600,
  operator: 600,
  // Alertmanager resends each group at most every few minutes; this is far above that.
  alertmanager: 600,
  admin: 600,
};

/** A route as registered, with its schemas: what the fuzz suite generates requests for. */
export interface RouteSummary {
  readonly method: string;
  readonly url: string;
  readonly schema: { body?: unknown; querystring?: unknown; params?: unknown } | undefined;
  readonly roles: readonly Role[] | undefined;
}

const registered = new WeakMap<FastifyInstance, RouteSummary[]>();

/** Every route an app built by buildApp registered, pages included. */
export function routesOf(app: FastifyInstance): readonly RouteSummary[] {
  return registered.get(app) ?? [];
}

export interface HttpTimeouts {
  /** From the first byte to the last of the body: a slower client gets 408 and the socket is closed. */
  readonly requestMs: number;
  readonly headersMs: number;
  /** An idle kept-alive connection is closed after this; above the ingress's own (60 s in ingress-nginx). */
  readonly keepAliveMs: number;
  /** A socket with no traffic at all (a client that stopped reading its answer) is closed after this. */
  readonly idleMs: number;
}

export const HTTP_TIMEOUTS: HttpTimeouts = { requestMs: 10_000, headersMs: 5_000, keepAliveMs: 65_000, idleMs: 70_000 };

/** Personal data never reaches a log line: requests are logged by route, never by body. */
const redactedSerializers = {
  req(request: FastifyRequest) {
    return { id: request.id, method: request.method, route: request.routeOptions?.url ?? 'unmatched' };
  },
  res(reply: { statusCode: number }) {
    return { statusCode: reply.statusCode };
  },
};

/**
 * Requests without a valid key, counted over a minute by what the sender controls: the address
 * (as the proxy reports it, see ENTITLE_TRUST_PROXY) and the key's first characters. Only such
 * requests are ever refused here: a valid key is checked first and always served, so bad keys
 * from a shared address (every citizen behind one ingress) cannot lock anyone out. Written by
 * hand: it is a counter and a window.
 */
class FailedAuthentication {
  private readonly counts = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly limit = 60,
    private readonly windowMs = 60_000,
  ) {}

  /** Counts one failure against each name; says whether any of them is now over the limit. */
  add(names: readonly string[]): boolean {
    const now = Date.now();
    let over = false;
    for (const name of names) {
      const entry = this.counts.get(name);
      if (!entry || now - entry.since > this.windowMs) {
        if (this.counts.size >= 10_000) this.counts.delete(this.counts.keys().next().value!);
        this.counts.set(name, { count: 1, since: now });
      } else {
        entry.count += 1;
        if (entry.count > this.limit) over = true;
      }
    }
    return over;
  }
}

/**
 * One log line per request, when it completes (route, status, time): the line Fastify writes
 * when a request arrives says nothing more, and at thousands of requests a second it costs.
 */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}
}

/**
 * Builds the HTTP service around the context the service wired (src/service): hooks, routes and
 * problems, with nothing long-lived of its own. `listen` is the caller's (tests use `inject`).
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { context } = options;
  const { metrics, rules } = context;
  const { admission, degradation } = context.capacity;
  const limits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
  const timeouts = { ...HTTP_TIMEOUTS, ...options.timeouts };

  const app = Fastify({
    logger: {
      level: options.logLevel ?? 'info',
      serializers: redactedSerializers,
      redact: {
        paths: ['req.headers', 'req.body', 'body', 'inputs', 'household', 'err.message'],
        censor: '[redacted]',
      },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    bodyLimit: options.bodyLimitBytes ?? 64 * 1024,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionTimeout: timeouts.idleMs,
    // Node checks the request and header deadlines this often (30 s by default).
    http: { headersTimeout: Math.min(timeouts.headersMs, timeouts.requestMs), connectionsCheckingInterval: 500 },
    return503OnClosing: false,
    clientErrorHandler: answerClientError,
    trustProxy: options.trustProxy ?? false,
    logController: new OneLinePerRequest(),
  });
  app.decorateRequest('apiKey', null);
  const routes: RouteSummary[] = [];
  registered.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      if (method !== 'HEAD')
        routes.push({
          method,
          url: route.url,
          schema: route.schema,
          roles: route.config?.roles,
        });
  });
  // JSON bodies are parsed by the guard: a key given twice or nesting past MAX_DEPTH is refused.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  await app.register(helmet);
  const failedAuthentication = new FailedAuthentication();

  // While closing, every request gets a problem with Retry-After (Fastify's own 503 has none).
  app.addHook('onRequest', async (request, reply) => {
    if (!context.state.closing) return;
    reply.header('connection', 'close');
    return sendProblem(reply, request, new EntitleError('ENTITLE_SHUTTING_DOWN', 'this instance is shutting down'));
  });

  // Authentication, then authorisation by the route's roles.
  app.addHook('onRequest', async (request) => {
    const roles = request.routeOptions.config.roles;
    if (!roles) return;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (\S+)$/.exec(header) : null;
    const key = match ? await context.keys.verify(match[1]!) : undefined;
    if (!key) {
      const names = [`address ${request.ip}`, ...(match ? [`key ${match[1]!.slice(0, 12)}`] : [])];
      metrics.authenticationFailures.inc();
      if (failedAuthentication.add(names))
        throw new EntitleError(
          'ENTITLE_RATE_LIMITED',
          'too many requests without a valid API key came from this address or with this key',
        );
      throw new EntitleError('ENTITLE_UNAUTHENTICATED', 'no valid API key was sent');
    }
    if (!key.roles.includes('admin') && !roles.some((role) => key.roles.includes(role))) {
      throw new EntitleError(
        'ENTITLE_FORBIDDEN',
        `this key may not do this: it needs one of the roles ${roles.join(', ')}`,
      );
    }
    request.apiKey = key;
  });

  // Text in the path and the query is checked as the body's is (the body was checked as parsed).
  app.addHook('preValidation', (request, _reply, done) => {
    checkValue(request.params, '');
    checkValue(request.query, '');
    done();
  });

  const admitted = new WeakMap<FastifyRequest, () => void>();
  // Admission, after authentication (an unknown caller never takes a place in the queue) and
  // after the body has arrived: a client that sends its body slowly holds a connection, bounded
  // by the request timeout, but never a place that a citizen's assessment could use. The place is
  // given back when the response is sent or the connection closes, whichever comes first.
  app.addHook('preValidation', async (request, reply) => {
    const { roles, report } = request.routeOptions.config;
    if (!roles) return;
    if (report && !degradation.allows('replay-and-reports')) {
      degradation.shed('replay-and-reports');
      throw new EntitleError(
        'ENTITLE_DEGRADED',
        degradation.dropsAutomatically('replay-and-reports')
          ? 'replay and reports are paused while demand is high, so citizen assessments keep being served'
          : 'replay and reports are switched off (flag replay-and-reports)',
      );
    }
    const release = await admission.acquire(priorityOf(request));
    reply.raw.once('close', release);
    admitted.set(request, release);
  });
  app.addHook('onResponse', (request, _reply, done) => {
    admitted.get(request)?.();
    done();
  });

  await app.register(rateLimit, {
    global: true,
    hook: 'preHandler',
    timeWindow: 60_000,
    keyGenerator: (request) => request.apiKey?.id ?? request.ip,
    max: (request) => Math.max(...(request.apiKey?.roles ?? ['caseworker']).map((role) => limits[role] ?? 600)),
    errorResponseBuilder: () => new EntitleError('ENTITLE_RATE_LIMITED', 'this key has sent too many requests'),
  });

  app.addHook('onResponse', async (request, reply) => {
    metrics.requestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler((error, request, reply) => {
    const entitleError = toEntitleError(error);
    // The message could quote anything (a database error can quote values): log its kind only.
    const kind = { kind: (error as Error).name, code: (error as { code?: unknown }).code };
    if (entitleError.code === 'ENTITLE_INTERNAL')
      request.log.error({ event: 'unexpected_error', ...kind }, 'unexpected error');
    else if (entitleError.code === 'ENTITLE_DATABASE_UNAVAILABLE')
      request.log.warn({ event: 'database_unavailable', ...kind }, 'the database did not answer; 503 sent');
    else if (!(error instanceof EntitleError) && entitleError.code === 'ENTITLE_REQUEST_INVALID' && kind.code)
      request.log.warn(
        { event: 'value_refused_by_database', ...kind },
        'the database refused a value the checks let through',
      );
    return sendProblem(reply, request, entitleError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, new EntitleError('ENTITLE_NOT_FOUND', 'there is nothing at this address')),
  );

  registerOperations(app, context, openApiDocument([...rules.active.values()]));
  registerAssessments(app, context);
  registerDecisions(app, context);
  registerLog(app, context);
  registerBackupRoute(app, context);
  registerReleases(app, context, options.gates);
  registerFreezeWindows(app, context);
  registerDeploys(app, context);
  registerAudit(app, context);
  registerRetention(app, context);
  registerRules(app, context);
  registerSubjects(app, context);
  registerSimulations(app, context);
  options.pages?.(app, context);
  registerIncidents(app, context);
  registerFlags(app, context);
  registerKeys(app, context);
  if (options.faults) {
    const faults = options.faults;
    app.post(
      '/test/faults',
      {
        config: { roles: ['admin'] },
        schema: {
          body: { type: 'object', required: ['database'], properties: { database: { enum: ['down', 'up'] } } },
        },
      },
      (request, reply) => {
        faults.setDatabaseDown((request.body as { database: 'down' | 'up' }).database === 'down');
        return reply.send({ database: faults.databaseDown ? 'down' : 'up' });
      },
    );
  }
  return app;
}

/**
 * ENTITLE_TRUST_PROXY, read: unset or "false" believes no proxy (the address that connected is
 * the client's); a comma-separated list of the proxies' addresses or CIDR ranges (the ingress
 * controller's pod network) believes X-Forwarded-For only from them; "true" believes every
 * X-Forwarded-For (only where every path to the service passes a proxy that overwrites it). A
 * number of proxies is refused: it would believe a header from whoever connects (Fastify refuses
 * it for the same reason).
 */
export function trustProxyFrom(text: string | undefined): boolean | string[] {
  const value = text?.trim() ?? '';
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  const entries = value.split(',').map((entry) => entry.trim());
  const bad = entries.filter((entry) => {
    const [address, bits, more] = entry.split('/');
    const version = isIP(address ?? '');
    if (version === 0 || more !== undefined) return true;
    return bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128));
  });
  if (bad.length > 0)
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'ENTITLE_TRUST_PROXY cannot be read', [
      {
        field: 'ENTITLE_TRUST_PROXY',
        message: "give false, the proxies' addresses or CIDR ranges such as 10.0.0.0/8,fd00::/8, or true",
      },
    ]);
  return entries;
}
