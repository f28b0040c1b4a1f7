import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { EntitleError } from '../errors/index.ts';
import { sendProblem, type ServiceContext } from '../http/index.ts';
import { listIncidents } from '../incidents/index.ts';
import { latestCheckpoint } from '../log/index.ts';
import { SLOS } from '../slos/index.ts';
import { publicStatus } from './public-status.ts';
import { StatusCache } from './status-cache.ts';
import type { Views } from './views.ts';

const WEEK_MS = 7 * 24 * 3600 * 1000;

/** CSP sources allowing exactly the inline scripts in a page, by their SHA-256. */
function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`,
  );
}

/**
 * The public status page and its JSON: public, never rate-limited (like /health), and served
 * from the last known status when the database does not answer.
 */
export function registerStatusPage(web: FastifyInstance, context: ServiceContext, views: Views): StatusCache {
  const cache = new StatusCache(
    async () => {
      const now = new Date();
      const [open, recent, checkpoint] = await Promise.all([
        listIncidents(context.db, { open: true }),
        listIncidents(context.db, { since: new Date(now.getTime() - WEEK_MS).toISOString() }),
        latestCheckpoint(context.db, 'decisions'),
      ]);
      const record = checkpoint && { decisions: checkpoint.size, signedAt: checkpoint.madeAt };
      return publicStatus(SLOS, open, recent, now, record);
    },
    (error) =>
      web.log.warn(
        { event: 'status_page_stale', kind: (error as Error).name },
        'the status page could not read incidents: serving the last known status',
      ),
  );

  // Citizens refresh this page hardest exactly when things fail. It is the same for everyone, so it
  // is rendered once per status read (at most every 5 s), not per request, and may be cached by a
  // CDN for 5 s: the template's one inline script is allowed by its hash rather than a nonce.
  let rendered: { key: string; html: string; scriptSources: string[] } | undefined;
  web.get('/status', { config: { rateLimit: false } }, async (_request, reply) => {
    const snapshot = await cache.get();
    const key = `${snapshot.checkedAt}|${snapshot.current}`;
    if (rendered?.key !== key) {
      const html = views.render('status.njk', snapshot);
      rendered = { key, html, scriptSources: inlineScriptHashes(html) };
    }
    reply.helmet({
      contentSecurityPolicy: { useDefaults: true, directives: { 'script-src': ["'self'", ...rendered.scriptSources] } },
    });
    reply.header('cache-control', 'public, max-age=5');
    return reply.type('text/html; charset=utf-8').send(rendered.html);
  });

  web.get('/status.json', { config: { rateLimit: false } }, async (request, reply) => {
    const { status, current, checkedAt } = await cache.get();
    if (!status)
      return sendProblem(
        reply,
        request,
        new EntitleError('ENTITLE_STORE_UNAVAILABLE', 'the status of the service cannot be checked now'),
      );
    reply.header('cache-control', 'public, max-age=5');
    return reply.send({ current, checkedAt, ...status });
  });
  return cache;
}
