import type { FastifyInstance } from 'fastify';
import { buildInfo } from '../../deploys/index.ts';
import type { ServiceContext } from '../context.ts';

const TIMEOUT_MS = 2_000;

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** /health, /ready, /version, /metrics and /openapi.json: public, never rate-limited, no personal data. */
export function registerOperations(app: FastifyInstance, context: ServiceContext, openApi: unknown): void {
  const open = { config: { rateLimit: false } } as const;

  app.get('/health', open, (_request, reply) => reply.send({ status: 'alive' }));

  app.get('/ready', open, async (_request, reply) => {
    const checks = {
      shutdown: !context.state.shuttingDown,
      database: false,
      migrations: false,
      rules: context.ruleSets.size > 0,
    };
    if (checks.shutdown) {
      try {
        await within(TIMEOUT_MS, context.db.query('SELECT 1'));
        checks.database = true;
        checks.migrations = await within(TIMEOUT_MS, context.migrationsCurrent());
      } catch {
        // A check that fails or times out leaves its flag false: not ready.
      }
    }
    const ready = Object.values(checks).every(Boolean);
    reply.code(ready ? 200 : 503);
    if (!ready) reply.header('retry-after', '2');
    return { status: ready ? 'ready' : 'not ready', checks };
  });

  // Which build this instance runs, and which rule-set version it decides with, per benefit: what an operator checks after
  // a promotion or rollback, and what the propagation test and benchmark watch.
  const build = buildInfo();
  app.get('/version', open, (_request, reply) => {
    const rules = Object.fromEntries(
      [...context.ruleSets].map(([benefit, ruleSet]) => [benefit, { id: ruleSet.id, hash: ruleSet.hash }]),
    );
    return reply.send({ service: 'entitle', build, rules });
  });

  app.get('/metrics', open, async (_request, reply) => {
    reply.type(context.registry.contentType);
    return context.registry.metrics();
  });

  app.get('/openapi.json', open, (_request, reply) => reply.send(openApi));
}
