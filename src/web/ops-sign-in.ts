import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceContext } from '../http/index.ts';
import { listKeys } from '../keys/index.ts';
import { fromStore } from './reads.ts';
import { CONSOLE_ROLES, SESSION_COOKIE, SESSION_HOURS, type OpsSession, type SessionSealer } from './session.ts';
import { PAGE, render, type Views } from './views.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is signed in to the operations console, on its pages. */
    opsSession: OpsSession | null;
  }
}

/** Where to go after signing in: only a console page, so the form cannot send anyone elsewhere. */
function safeNext(value: unknown): string | undefined {
  return typeof value === 'string' && /^\/ops(\/[A-Za-z0-9._~-]+)*$/.test(value) ? value : undefined;
}

/**
 * Whether the cookie may go without Secure: only on plain HTTP to this machine (a laptop, or the
 * tests). Anywhere else it is Secure, whatever a proxy says or forgets to say.
 */
function localPlainHttp(request: FastifyRequest): boolean {
  const forwarded = request.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return (
    request.protocol === 'http' &&
    first !== 'https' &&
    ['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(request.socket.remoteAddress ?? '') &&
    /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(request.headers.host ?? '')
  );
}

const cookieOptions = (request: FastifyRequest) => ({
  path: '/ops',
  httpOnly: true,
  sameSite: 'strict' as const,
  secure: !localPlainHttp(request),
});

/**
 * Forms are posted only from the console itself: browsers say where a request came from in
 * Sec-Fetch-Site (and Origin, which the pages' no-referrer policy turns to "null"); a form posted
 * from another site is refused, so nobody can be signed in or out from elsewhere.
 */
function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin' || site === 'none';
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** The session in the request's cookie, if it is genuine, current and its key not revoked. */
async function sessionOf(
  request: FastifyRequest,
  context: ServiceContext,
  sealer: SessionSealer,
): Promise<OpsSession | undefined> {
  const session = sealer.open(request.cookies[SESSION_COOKIE]);
  if (!session) return undefined;
  const key = (await fromStore(listKeys(context.db))).find((k) => k.id === session.id);
  return key && key.revokedAt === null ? session : undefined;
}

/**
 * Signing in with an API key, and out. The cookie holds the key's id, name and roles with an
 * expiry, sealed with an HMAC; never the key.
 */
export function registerSignIn(
  ops: FastifyInstance,
  context: ServiceContext,
  views: Views,
  sealer: SessionSealer,
): void {
  const signInPage = (
    reply: FastifyReply,
    data: { next?: string | undefined; signedOut?: boolean; error?: string },
    status = 200,
  ) =>
    render(
      views,
      reply,
      'ops/sign-in.njk',
      {
        next: data.next,
        signedOut: data.signedOut,
        errorList: data.error ? [{ text: data.error, href: '#api-key' }] : undefined,
      },
      status,
    );

  ops.get<{ Querystring: { next?: string; signedOut?: string } }>('/sign-in', PAGE, async (request, reply) => {
    const next = safeNext(request.query.next);
    if (await sessionOf(request, context, sealer)) return reply.redirect(next ?? '/ops', 303);
    return signInPage(reply, { next, signedOut: request.query.signedOut === 'yes' });
  });

  // Keys are 32 random bytes, so guessing is hopeless; the limit keeps each guess from costing a query.
  ops.post<{ Body: { apiKey?: unknown; next?: unknown } }>(
    '/sign-in',
    { ...PAGE, config: { rateLimit: { max: 30, timeWindow: 60_000 } } },
    async (request, reply) => {
      if (!sameOrigin(request)) return reply.code(403).send('Forbidden');
      const body = request.body ?? {};
      const next = safeNext(body.next);
      const presented = typeof body.apiKey === 'string' ? body.apiKey.trim() : '';
      if (!presented) return signInPage(reply, { next, error: 'Enter your API key' }, 400);
      const key = await context.keys.verify(presented);
      if (!key)
        return signInPage(
          reply,
          { next, error: 'Enter a valid API key: this one is not recognised, or has been revoked' },
          400,
        );
      if (!key.roles.some((role) => CONSOLE_ROLES.includes(role))) {
        return signInPage(
          reply,
          {
            next,
            error:
              'Enter a key with the operator, admin, auditor, approver or policy author role: this key cannot use the console',
          },
          403,
        );
      }
      const expiresAt = Date.now() + SESSION_HOURS * 3600 * 1000;
      reply.setCookie(SESSION_COOKIE, sealer.seal({ id: key.id, name: key.name, roles: key.roles, expiresAt }), {
        ...cookieOptions(request),
        maxAge: SESSION_HOURS * 3600,
      });
      request.log.info({ event: 'ops_signed_in', key: key.name }, 'signed in to the operations console');
      return reply.redirect(next ?? '/ops', 303);
    },
  );

  ops.post('/sign-out', PAGE, (request, reply) => {
    if (!sameOrigin(request)) return reply.code(403).send('Forbidden');
    reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
    return reply.redirect('/ops/sign-in?signedOut=yes', 303);
  });
}

/** Every other console page: signed in, or sent to sign in and brought back. */
export function requireSession(pages: FastifyInstance, context: ServiceContext, sealer: SessionSealer): void {
  pages.addHook('onRequest', async (request, reply) => {
    const session = await sessionOf(request, context, sealer);
    if (session) {
      request.opsSession = session;
      reply.header('cache-control', 'no-store');
      return;
    }
    if (request.cookies[SESSION_COOKIE] !== undefined) reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
    const next = safeNext(request.url.split('?')[0]);
    return reply.redirect(
      next && next !== '/ops' ? `/ops/sign-in?next=${encodeURIComponent(next)}` : '/ops/sign-in',
      303,
    );
  });
}
