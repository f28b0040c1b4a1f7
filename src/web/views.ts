import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import nunjucks from 'nunjucks';
import { govukTime } from '../uk-time/index.ts';

/** GOV.UK Frontend's dist folder: its templates, CSS and assets. */
export const GOVUK_DIST = join(dirname(createRequire(import.meta.url).resolve('govuk-frontend/package.json')), 'dist');
const VIEWS_DIR = fileURLToPath(new URL('./views', import.meta.url));

/**
 * Route options for every HTML page: a fresh CSP nonce for the GOV.UK template's one inline
 * script, added to the policy helmet already sends.
 */
export const PAGE = { helmet: { enableCSPNonces: true } } as const;

export type Views = nunjucks.Environment;

export function createViews(): Views {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader([VIEWS_DIR, GOVUK_DIST]), { autoescape: true });
  env.addFilter('ukTime', (instant: string | null | undefined) => (instant ? govukTime(instant) : ''));
  env.addFilter('formatCount', (n: number) => n.toLocaleString('en-GB'));
  return env;
}

/**
 * Renders a page with the reply's nonce. A page from a handler without PAGE's options (a 404)
 * gets one here, through helmet, so its policy still allows the template's script and no other.
 */
export function render(views: Views, reply: FastifyReply, view: string, data: object, status = 200): FastifyReply {
  let nonce = reply.cspNonce?.script;
  if (!nonce) {
    nonce = randomBytes(16).toString('hex');
    reply.helmet({
      contentSecurityPolicy: { useDefaults: true, directives: { 'script-src': ["'self'", `'nonce-${nonce}'`] } },
    });
  }
  const html = views.render(view, { ...data, cspNonce: nonce });
  if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}
