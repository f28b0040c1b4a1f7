/**
 * The public status page and the read-only operations console: server-rendered with GOV.UK
 * Frontend, working without JavaScript. This is the module's public surface.
 */
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problemOf, RETRY_AFTER_SECONDS, sendProblem, toEntitleError, type ServiceContext } from '../http/index.ts';
import { registerAssets } from './assets.ts';
import { registerOpsPages } from './ops-pages.ts';
import { registerSignIn, requireSession } from './ops-sign-in.ts';
import { idleMinutesFrom, SessionSealer, secretRing, WARNING_SECONDS } from './session.ts';
import { registerStatusPage } from './status-page.ts';
import { createViews, render, type Views } from './views.ts';

export { secretRing } from './session.ts';
export { publicStatus, STATE_TEXT, type JourneyState, type PublicStatus } from './public-status.ts';

export interface WebSettings {
  /** Where the console reads error budgets; without it the console says it is not configured. */
  readonly prometheusUrl?: string;
  /**
   * Seal console sessions: the first seals, each opens (a ring, for rotation); without any, a
   * random secret per process (sessions end on restart).
   */
  readonly sessionSecrets?: readonly string[];
  /** Seconds without use before a console session ends (ENTITLE_CONSOLE_IDLE_MINUTES; default 15 minutes). */
  readonly idleSeconds?: number;
  /** Seconds before that when the page warns (default 2 minutes). */
  readonly warningSeconds?: number;
}

export function webSettingsFrom(env: NodeJS.ProcessEnv): WebSettings {
  return {
    prometheusUrl: env.PROMETHEUS_URL || undefined,
    sessionSecrets: secretRing(env.ENTITLE_SESSION_SECRET),
    idleSeconds: idleMinutesFrom(env.ENTITLE_CONSOLE_IDLE_MINUTES) * 60,
  };
}

/** What each failure looks like as a page: a heading and what to do, never the error itself. */
const ERROR_PAGES: Readonly<Record<number, { title: string; paragraphs: string[] }>> = {
  400: {
    title: 'Sorry, there is a problem with the service',
    paragraphs: ['The form could not be read. Go back and try again.'],
  },
  404: {
    title: 'Page not found',
    paragraphs: [
      'If you typed the web address, check it is correct.',
      'If you pasted the web address, check you copied the entire address.',
    ],
  },
  429: { title: 'Sorry, there have been too many attempts', paragraphs: ['Wait a minute, then try again.'] },
  503: {
    title: 'Sorry, the service is unavailable',
    paragraphs: ['The service could not reach its database. Try again in a few minutes.'],
  },
};
const INTERNAL = { title: 'Sorry, there is a problem with the service', paragraphs: ['Try again later.'] };

function errorPage(views: Views, request: FastifyRequest, reply: FastifyReply, status: number): FastifyReply {
  const page = ERROR_PAGES[status] ?? INTERNAL;
  if (status === 503 || status === 429) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  const inConsole = request.url.startsWith('/ops');
  return render(
    views,
    reply,
    'error.njk',
    {
      pageTitle: page.title,
      paragraphs: page.paragraphs,
      console: inConsole,
      session: inConsole ? request.opsSession : null,
    },
    status,
  );
}

/**
 * Registers /status, /status.json, /ops and the assets they use, in their own encapsulated
 * context: form bodies, cookies and HTML error pages stay out of the JSON API.
 */
export function registerWeb(
  app: FastifyInstance,
  context: ServiceContext,
  settings: WebSettings = webSettingsFrom(process.env),
): void {
  void app.register(async (web) => {
    const views = createViews();
    const idleSeconds = settings.idleSeconds ?? idleMinutesFrom(undefined) * 60;
    const policy = {
      sealer: new SessionSealer(settings.sessionSecrets),
      idleSeconds,
      warningSeconds: Math.min(settings.warningSeconds ?? WARNING_SECONDS, Math.floor(idleSeconds / 2)),
    };
    // Every signed-in page carries the timeout, for its warning (views/ops/timeout-warning.njk).
    views.addGlobal('sessionTimeout', { idleSeconds: policy.idleSeconds, warningSeconds: policy.warningSeconds });
    await web.register(cookie);
    await web.register(formbody);
    web.decorateRequest('opsSession', null);
    await registerAssets(web);

    web.setErrorHandler((error: FastifyError, request, reply) => {
      const entitleError = toEntitleError(error);
      if (entitleError.code === 'ENTITLE_INTERNAL')
        request.log.error({ event: 'unexpected_error', kind: error.name, code: error.code }, 'unexpected error');
      if (request.url.startsWith('/status.json')) return sendProblem(reply, request, entitleError);
      return errorPage(views, request, reply, problemOf(entitleError).status);
    });

    registerStatusPage(web, context, views);
    await web.register(
      async (ops) => {
        ops.setNotFoundHandler((request, reply) => errorPage(views, request, reply, 404));
        registerSignIn(ops, context, views, policy);
        await ops.register((pages, _options, done) => {
          requireSession(pages, context, policy);
          registerOpsPages(pages, context, views, settings.prometheusUrl);
          done();
        });
      },
      { prefix: '/ops' },
    );
  });
}
