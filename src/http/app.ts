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
import { sendProblem, toEntitleError } from './problems.ts';
import { registerAssessments } from './routes/assessments.ts';
import { registerDecisions } from './routes/decisions.ts';
import { registerBackupRoute, registerLog } from './routes/log.ts';
import { registerFlags } from './routes/flags.ts';
import { registerIncidents } from './routes/incidents.ts';
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
  readonly logLevel?: string;
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
 * Requests without a valid key, counted per address over a minute: the per-key rate limit cannot
 * apply to them, and each costs a database lookup. Written by hand: it is a counter and a window.
 */
class FailedLogins {
  private readonly counts = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly limit = 60,
    private readonly windowMs = 60_000,
  ) {}

  add(address: string): void {
    const now = Date.now();
    const entry = this.counts.get(address);
    if (!entry || now - entry.since > this.windowMs) {
      if (this.counts.size >= 10_000) this.counts.delete(this.counts.keys().next().value!);
      this.counts.set(address, { count: 1, since: now });
    } else {
      entry.count += 1;
    }
  }

  blocked(address: string): boolean {
    const entry = this.counts.get(address);
    return entry !== undefined && entry.count >= this.limit && Date.now() - entry.since <= this.windowMs;
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
    return503OnClosing: false,
    logController: new OneLinePerRequest(),
  });
  app.decorateRequest('apiKey', null);
  await app.register(helmet);
  const failedLogins = new FailedLogins();

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
    if (failedLogins.blocked(request.ip))
      throw new EntitleError(
        'ENTITLE_RATE_LIMITED',
        'too many requests with keys that are not valid came from this address',
      );
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (\S+)$/.exec(header) : null;
    const key = match ? await context.keys.verify(match[1]!) : undefined;
    if (!key) {
      failedLogins.add(request.ip);
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

  const admitted = new WeakMap<FastifyRequest, () => void>();
  // Admission, after authentication (an unknown caller never takes a place in the queue) and
  // before the body is parsed: a refusal costs almost nothing. The place is given back when the
  // response is sent or the connection closes, whichever comes first.
  app.addHook('onRequest', async (request, reply) => {
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
    if (entitleError.code === 'ENTITLE_INTERNAL') {
      // The message could quote anything (a database error can quote values): log its kind only.
      request.log.error(
        { event: 'unexpected_error', kind: (error as Error).name, code: (error as { code?: unknown }).code },
        'unexpected error',
      );
    }
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
  options.pages?.(app, context);
  registerIncidents(app, context);
  registerFlags(app, context);
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
