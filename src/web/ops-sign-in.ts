import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceContext } from '../http/index.ts';
import { listKeys } from '../keys/index.ts';
import { fromStore } from './reads.ts';
import { endSession, startSession, useSession, type EndReason } from './console-sessions.ts';
import { CONSOLE_ROLES, SESSION_COOKIE, type OpsSession, type SessionSealer } from './session.ts';
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

/** How the console's sessions behave: the sealer of cookies, and the idle timeout with its warning. */
export interface SessionPolicy {
  readonly sealer: SessionSealer;
  readonly idleSeconds: number;
  readonly warningSeconds: number;
}

/**
 * The session in the request's cookie, if it is genuine and current on the server (not signed
 * out, not idle past the timeout, its key not revoked); otherwise why it ended, if it had begun.
 * A page uses the session (`touch`); asking how long is left does not.
 */
async function sessionOf(
  request: FastifyRequest,
  context: ServiceContext,
  policy: SessionPolicy,
  touch = true,
): Promise<{ session: OpsSession; lastSeenAt: string } | { session?: undefined; ended?: EndReason | 'unknown' }> {
  const session = policy.sealer.open(request.cookies[SESSION_COOKIE]);
  if (!session) return {};
  const key = (await fromStore(listKeys(context.db))).find((k) => k.id === session.id);
  // A revoked key, or one past its expiry (the end of a rotation's overlap), ends its sessions.
  if (!key || key.revokedAt !== null || (key.expiresAt !== null && Date.parse(key.expiresAt) <= Date.now())) {
    await fromStore(endSession(context.db, session.sid, 'key-revoked'));
    return { ended: 'key-revoked' };
  }
  const state = await fromStore(useSession(context.db, session.sid, policy.idleSeconds * 1000, { touch }));
  return state.active ? { session, lastSeenAt: state.lastSeenAt } : { ended: state.reason };
}

/**
 * Signing in with an API key, and out. The cookie holds the session's id and the key's id, name
 * and roles with an expiry, sealed with an HMAC; never the key. The session itself is held on
 * the server (console_sessions): signing out ends it there, and so does leaving the console idle
 * for the timeout, after a warning on the page (GOV.UK's timeout warning pattern) that offers to
 * stay signed in.
 */
export function registerSignIn(
  ops: FastifyInstance,
  context: ServiceContext,
  views: Views,
  policy: SessionPolicy,
): void {
  const idleMinutes = Math.round(policy.idleSeconds / 60);
  const signInPage = (
    reply: FastifyReply,
    data: { next?: string | undefined; signedOut?: boolean; timedOut?: boolean; error?: string },
    status = 200,
  ) =>
    render(
      views,
      reply,
      'ops/sign-in.njk',
      {
        next: data.next,
        signedOut: data.signedOut,
        timedOut: data.timedOut,
        idleMinutes,
        errorList: data.error ? [{ text: data.error, href: '#api-key' }] : undefined,
      },
      status,
    );

  ops.get<{ Querystring: { next?: string; signedOut?: string; timedOut?: string } }>(
    '/sign-in',
    PAGE,
    async (request, reply) => {
      const next = safeNext(request.query.next);
      const current = await sessionOf(request, context, policy);
      if (current.session) return reply.redirect(next ?? '/ops', 303);
      if (current.ended) reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
      return signInPage(reply, {
        next,
        signedOut: request.query.signedOut === 'yes',
        timedOut: request.query.timedOut === 'yes' || current.ended === 'idle',
      });
    },
  );

  // How long the session has left, for the warning's script: asking does not keep it alive.
  ops.get('/session', async (request, reply) => {
    const current = await sessionOf(request, context, policy, false);
    reply.header('cache-control', 'no-store');
    if (!current.session) return { signedIn: false };
    const idleEnds = Date.parse(current.lastSeenAt) + policy.idleSeconds * 1000;
    const endsAt = Math.min(idleEnds, current.session.expiresAt);
    return {
      signedIn: true,
      // Rounded up: 0 only once the session is over, so the page never leaves a session still open.
      secondsLeft: Math.max(0, Math.ceil((endsAt - Date.now()) / 1000)),
      warningSeconds: policy.warningSeconds,
    };
  });

  // "Stay signed in": uses the session, from the console's own page only.
  ops.post('/session/extend', async (request, reply) => {
    if (!sameOrigin(request)) return reply.code(403).send('Forbidden');
    const current = await sessionOf(request, context, policy);
    reply.header('cache-control', 'no-store');
    if (!current.session) return reply.code(401).send({ signedIn: false });
    // Never more than the session's own end: near it, the page still warns before signing out.
    const secondsLeft = Math.min(policy.idleSeconds, Math.ceil((current.session.expiresAt - Date.now()) / 1000));
    return { signedIn: true, secondsLeft, warningSeconds: policy.warningSeconds };
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
      const { sid, expiresAt } = await fromStore(
        startSession(context.db, key.id, Date.now(), key.expiresAt ? Date.parse(key.expiresAt) : undefined),
      );
      reply.setCookie(
        SESSION_COOKIE,
        policy.sealer.seal({ sid, id: key.id, name: key.name, roles: key.roles, expiresAt }),
        {
          ...cookieOptions(request),
          maxAge: Math.max(1, Math.round((expiresAt - Date.now()) / 1000)),
        },
      );
      request.log.info({ event: 'ops_signed_in', key: key.name }, 'signed in to the operations console');
      return reply.redirect(next ?? '/ops', 303);
    },
  );

  ops.post('/sign-out', PAGE, async (request, reply) => {
    if (!sameOrigin(request)) return reply.code(403).send('Forbidden');
    // Ended on the server: a copy of the cookie kept anywhere opens nothing from now on.
    const session = policy.sealer.open(request.cookies[SESSION_COOKIE]);
    if (session) {
      await fromStore(endSession(context.db, session.sid, 'signed-out'));
      request.log.info({ event: 'ops_signed_out', key: session.name }, 'signed out of the operations console');
    }
    reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
    return reply.redirect('/ops/sign-in?signedOut=yes', 303);
  });
}

/** Every other console page: signed in, or sent to sign in and brought back. */
export function requireSession(pages: FastifyInstance, context: ServiceContext, policy: SessionPolicy): void {
  pages.addHook('onRequest', async (request, reply) => {
    const current = await sessionOf(request, context, policy);
    if (current.session) {
      request.opsSession = current.session;
      reply.header('cache-control', 'no-store');
      return;
    }
    if (request.cookies[SESSION_COOKIE] !== undefined) reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
    const next = safeNext(request.url.split('?')[0]);
    const query = new URLSearchParams({
      ...(current.ended === 'idle' ? { timedOut: 'yes' } : {}),
      ...(next && next !== '/ops' ? { next } : {}),
    }).toString();
    return reply.redirect(query ? `/ops/sign-in?${query}` : '/ops/sign-in', 303);
  });
}
