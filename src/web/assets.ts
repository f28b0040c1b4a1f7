import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { GOVUK_DIST } from './views.ts';

const ASSETS = join(GOVUK_DIST, 'govuk', 'assets');
const STYLESHEETS = new Map([
  ['govuk-frontend.min.css', join(GOVUK_DIST, 'govuk')],
  ['entitle.css', fileURLToPath(new URL('./public', import.meta.url))],
]);
/** The console's one script, the timeout warning (views/ops/timeout-warning.njk). */
const SCRIPTS = new Map([['session-timeout.js', fileURLToPath(new URL('./public', import.meta.url))]]);
const DAY_MS = 24 * 3600 * 1000;

/**
 * GOV.UK Frontend's fonts, images and manifest under /assets/, and the stylesheets under
 * /stylesheets/, and the console's timeout warning under /scripts/. Every page works without JavaScript. Not rate-limited, like the status
 * page they serve (citizens behind one address would otherwise share a limit).
 */
export async function registerAssets(web: FastifyInstance): Promise<void> {
  await web.register(fastifyStatic, { root: ASSETS, serve: false });
  const open = { config: { rateLimit: false } } as const;

  web.get<{ Params: { '*': string } }>('/assets/*', open, (request, reply) => {
    const path = request.params['*'];
    // Font names carry a hash of their content; the rest keep their names across versions.
    return path.startsWith('fonts/')
      ? reply.sendFile(path, ASSETS, { immutable: true, maxAge: 365 * DAY_MS })
      : reply.sendFile(path, ASSETS, { maxAge: DAY_MS });
  });

  web.get<{ Params: { name: string } }>('/stylesheets/:name', open, (request, reply) => {
    const root = STYLESHEETS.get(request.params.name);
    if (!root) return reply.callNotFound();
    return reply.sendFile(request.params.name, root, { maxAge: DAY_MS });
  });

  web.get<{ Params: { name: string } }>('/scripts/:name', open, (request, reply) => {
    const root = SCRIPTS.get(request.params.name);
    if (!root) return reply.callNotFound();
    // An hour: a new version's script reaches open pages soon after a deploy.
    return reply.sendFile(request.params.name, root, { maxAge: 3600_000 });
  });
}
