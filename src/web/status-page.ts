import type { FastifyInstance } from 'fastify';
import { EntitleError } from '../errors/index.ts';
import type { ServiceContext } from '../http/context.ts';
import { sendProblem } from '../http/problems.ts';
import { listIncidents } from '../incidents/index.ts';
import { SLOS } from '../ops/index.ts';
import { publicStatus } from './public-status.ts';
import { StatusCache } from './status-cache.ts';
import { PAGE, render, type Views } from './views.ts';

const WEEK_MS = 7 * 24 * 3600 * 1000;

/**
 * The public status page and its JSON: public, never rate-limited (like /health), and served
 * from the last known status when the database does not answer.
 */
export function registerStatusPage(web: FastifyInstance, context: ServiceContext, views: Views): StatusCache {
  const cache = new StatusCache(
    async () => {
      const now = new Date();
      const [open, recent] = await Promise.all([listIncidents(context.db, { open: true }), listIncidents(context.db, { since: new Date(now.getTime() - WEEK_MS).toISOString() })]);
      return publicStatus(SLOS, open, recent, now);
    },
    (error) => web.log.warn({ event: 'status_page_stale', kind: (error as Error).name }, 'the status page could not read incidents: serving the last known status'),
  );

  web.get('/status', { ...PAGE, config: { rateLimit: false } }, async (_request, reply) => {
    const snapshot = await cache.get();
    // Not stored by shared caches: the page carries a per-response CSP nonce.
    reply.header('cache-control', 'no-cache');
    return render(views, reply, 'status.njk', snapshot);
  });

  web.get('/status.json', { config: { rateLimit: false } }, async (request, reply) => {
    const { status, current, checkedAt } = await cache.get();
    if (!status) return sendProblem(reply, request, new EntitleError('ENTITLE_STORE_UNAVAILABLE', 'the status of the service cannot be checked now'));
    reply.header('cache-control', 'public, max-age=5');
    return reply.send({ current, checkedAt, ...status });
  });
  return cache;
}
