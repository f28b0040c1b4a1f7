import type { FastifyInstance, FastifyRequest } from 'fastify';
import { auditEventsFor } from '../../audit/index.ts';
import { backtestRelease, backtestWindow } from '../../backtest/index.ts';
import { storedBundle } from '../../decisions/index.ts';
import { EntitleError } from '../../errors/index.ts';
import type { Role } from '../../keys/index.ts';
import {
  approveRelease,
  candidateFromDir,
  createRelease,
  gateSettingsFrom,
  getRelease,
  judge,
  shadowWindowOf,
  listReleases,
  promoteRelease,
  readStats,
  rejectRelease,
  releaseSamples,
  rollbackRelease,
  setCanary,
  startShadow,
  unitsOf,
  withRuleSetFiles,
  type GateSettings,
  type RuleSetUnits,
} from '../../releases/index.ts';
import { affectedApplications, worklistCsv } from '../../remediation/index.ts';
import { ruleSetFromBundle } from '../../rules/index.ts';
import { londonToInstant } from '../../uk-time/index.ts';
import type { ServiceContext } from '../context.ts';
import { noBodyIsEmpty } from '../request-guard.ts';
import { answerWithProgress } from '../progress-stream.ts';

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;
const reason = { type: 'string', minLength: 1, maxLength: 2_000 } as const;
const percent = { type: 'number', exclusiveMinimum: 0, maximum: 100 } as const;

/** Request bodies, validated by Fastify and published in the OpenAPI document. */
export const releaseSchemas = {
  create: {
    type: 'object',
    required: ['benefit', 'summary', 'effective', 'files'],
    additionalProperties: false,
    properties: {
      benefit: { type: 'string', minLength: 1, maxLength: 64 },
      summary: { type: 'string', minLength: 1, maxLength: 500 },
      effective: { type: 'string', description: 'UK time: 2026-04-06 or 2026-04-06T09:00', maxLength: 40 },
      expectations: {
        type: 'string',
        description: 'the YAML declaration of expected changes (none: it must change nothing)',
        maxLength: 100_000,
      },
      expectationsName: {
        type: 'string',
        description: 'the name problems in the declaration are reported under (its file name, say)',
        minLength: 1,
        maxLength: 200,
      },
      files: {
        type: 'object',
        description:
          'ruleset.yaml, parameters.yaml, household.yaml (the household model, for a rule set that reads it) and tests/NAME.yaml, each as text',
        additionalProperties: { type: 'string', maxLength: 1_000_000 },
      },
    },
  },
  shadow: {
    type: 'object',
    additionalProperties: false,
    properties: { percent, preview: { type: 'boolean' }, reason },
  },
  canary: { type: 'object', required: ['percent'], additionalProperties: false, properties: { percent, reason } },
  approve: { type: 'object', additionalProperties: false, properties: { emergency: { type: 'boolean' }, reason } },
  step: { type: 'object', additionalProperties: false, properties: { reason } },
  backtest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      last: {
        type: 'integer',
        minimum: 1,
        maximum: 1_000_000,
        description: 'the most recent N decisions of the benefit',
      },
      from: { type: 'string', maxLength: 40, description: 'decisions made from this UK date or time' },
      to: { type: 'string', maxLength: 40, description: 'decisions made up to this UK date (included) or time' },
    },
  },
  required: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason } },
} as const;

/** Who did it: the person holding the API key, whom the two-person rule compares (not the key). */
function actorOf(request: FastifyRequest): string {
  return request.apiKey!.person;
}

const AUTHORS: readonly Role[] = ['policy-author'];
const APPROVERS: readonly Role[] = ['approver'];
const OPERATORS: readonly Role[] = ['operator'];
const READERS: readonly Role[] = ['policy-author', 'approver', 'operator', 'auditor'];

/**
 * The releases API: the same steps as `entitle release`, each recorded with the calling key's
 * name as the actor. A policy author creates and tests releases, an approver approves and
 * promotes, an operator runs canaries and rollbacks and lists the decisions to correct.
 */
export function registerReleases(
  app: FastifyInstance,
  context: ServiceContext,
  gates: GateSettings = gateSettingsFrom(process.env),
): void {
  const { db } = context;
  let backtesting = false;
  const body = <T>(request: FastifyRequest) => (request.body ?? {}) as T;
  const id = (request: FastifyRequest) => (request.params as { id: string }).id;
  // How a rule set's values read (money, rates, dates), by hash: compiled once, as bundles never change.
  const units = new Map<string, RuleSetUnits>();
  const unitsFor = async (hash: string): Promise<RuleSetUnits> => {
    let found = units.get(hash);
    if (!found) {
      found = unitsOf(ruleSetFromBundle(await storedBundle(db, hash), hash).program);
      if (units.size >= 64) units.delete(units.keys().next().value!);
      units.set(hash, found);
    }
    return found;
  };

  app.get(
    '/v1/releases',
    {
      config: { roles: READERS },
      schema: { querystring: { type: 'object', properties: { benefit: { type: 'string', maxLength: 64 } } } },
    },
    async (request) => {
      const { benefit } = request.query as { benefit?: string };
      return { releases: await listReleases(db, benefit) };
    },
  );

  app.get('/v1/releases/:id', { config: { roles: READERS }, schema: { params: idParams } }, async (request) => {
    const release = await getRelease(db, id(request));
    const stats = await readStats(db, release.id);
    const window = shadowWindowOf(release, gates, new Date());
    return {
      release,
      stats,
      gates: judge(stats, gates, window),
      shadowWindow: window,
      samples: await releaseSamples(db, release.id),
      steps: await auditEventsFor(db, release.id),
      units: await unitsFor(release.rulesetHash),
    };
  });

  app.post(
    '/v1/releases',
    { config: { roles: AUTHORS }, schema: { body: releaseSchemas.create }, bodyLimit: 4 * 1024 * 1024 },
    async (request, reply) => {
      const input = body<{
        benefit: string;
        summary: string;
        effective: string;
        expectations?: string;
        expectationsName?: string;
        files: Record<string, string>;
      }>(request);
      const effectiveAt = londonToInstant(input.effective, 'effective');
      const candidate = await withRuleSetFiles(input.files, (dir) =>
        candidateFromDir(
          dir,
          input.benefit,
          input.expectations === undefined
            ? undefined
            : { name: input.expectationsName ?? 'expectations', text: input.expectations },
          'files',
          dir,
        ),
      ).catch((error: unknown) => {
        // A problem in the declaration is placed as the sender would: name:line:column.
        if (!(error instanceof EntitleError) || error.code !== 'ENTITLE_EXPECTATIONS_INVALID') throw error;
        throw new EntitleError(
          error.code,
          error.message,
          error.problems.map((p) => ({
            field: `${input.expectationsName ?? 'expectations'}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}`,
            message: p.message,
          })),
        );
      });
      const release = await createRelease(db, {
        ...candidate,
        author: actorOf(request),
        summary: input.summary,
        effectiveAt,
      });
      reply.code(201).header('location', `/v1/releases/${release.id}`);
      return { release, golden: candidate.golden };
    },
  );

  app.post(
    '/v1/releases/:id/shadow',
    {
      preValidation: noBodyIsEmpty,
      config: { roles: AUTHORS },
      schema: { params: idParams, body: releaseSchemas.shadow },
    },
    async (request) => {
      const input = body<{ percent?: number; preview?: boolean; reason?: string }>(request);
      return {
        release: await startShadow(
          db,
          id(request),
          { sharePercent: input.percent ?? 100, preview: input.preview === true },
          actorOf(request),
          input.reason ?? 'shadow evaluation',
        ),
      };
    },
  );

  app.post(
    '/v1/releases/:id/canary',
    {
      preValidation: noBodyIsEmpty,
      config: { roles: OPERATORS },
      schema: { params: idParams, body: releaseSchemas.canary },
    },
    async (request) => {
      const input = body<{ percent: number; reason?: string }>(request);
      return {
        release: await setCanary(
          db,
          id(request),
          input.percent,
          actorOf(request),
          input.reason ?? `canary at ${input.percent}%`,
        ),
      };
    },
  );

  app.post(
    '/v1/releases/:id/approve',
    {
      preValidation: noBodyIsEmpty,
      config: { roles: APPROVERS },
      schema: { params: idParams, body: releaseSchemas.approve },
    },
    async (request) => {
      const input = body<{ emergency?: boolean; reason?: string }>(request);
      if (input.emergency && !input.reason)
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'an emergency approval needs a reason', [
          { field: 'reason', message: 'say why the freeze must be overridden' },
        ]);
      return {
        release: await approveRelease(
          db,
          id(request),
          input.emergency ? 'emergency' : 'promotion',
          actorOf(request),
          input.reason ?? 'approved',
        ),
      };
    },
  );

  app.post(
    '/v1/releases/:id/promote',
    {
      preValidation: noBodyIsEmpty,
      config: { roles: APPROVERS },
      schema: { params: idParams, body: releaseSchemas.step },
    },
    async (request) => {
      const input = body<{ reason?: string }>(request);
      return promoteRelease(db, id(request), actorOf(request), input.reason ?? 'promoted', gates);
    },
  );

  app.post(
    '/v1/releases/:id/rollback',
    {
      preValidation: noBodyIsEmpty,
      config: { roles: OPERATORS },
      schema: { params: idParams, body: releaseSchemas.required },
    },
    async (request) => {
      return {
        release: await rollbackRelease(db, id(request), actorOf(request), body<{ reason: string }>(request).reason),
      };
    },
  );

  app.post(
    '/v1/releases/:id/reject',
    {
      preValidation: noBodyIsEmpty,
      config: { roles: [...AUTHORS, ...OPERATORS] },
      schema: { params: idParams, body: releaseSchemas.required },
    },
    async (request) => {
      return {
        release: await rejectRelease(db, id(request), actorOf(request), body<{ reason: string }>(request).reason),
      };
    },
  );

  // One worker thread: the other core stays with citizens' assessments. Its progress streams to
  // a caller that asks for it (answerWithProgress), as the command line does.
  app.post(
    '/v1/releases/:id/backtest',
    {
      preValidation: noBodyIsEmpty,
      config: { roles: AUTHORS, report: true },
      schema: { params: idParams, body: releaseSchemas.backtest },
    },
    async (request, reply) => {
      const input = body<{ last?: number; from?: string; to?: string }>(request);
      const window = backtestWindow(input) ?? { last: 100_000 };
      const release = await getRelease(db, id(request));
      if (backtesting) throw new EntitleError('ENTITLE_BUSY', 'a backtest is already running on this instance');
      backtesting = true;
      return answerWithProgress(request, reply, (onProgress) =>
        backtestRelease(db, release.id, actorOf(request), { window, workers: 1, onProgress })
          .then(async ({ result }) => ({ release: release.id, units: await unitsFor(release.rulesetHash), ...result }))
          .finally(() => {
            backtesting = false;
          }),
      );
    },
  );

  // The remediation worklist, as JSON or (Accept: text/csv) as the caseworkers' spreadsheet. It
  // re-evaluates every decision the release made, which can take minutes: a caller that asks for
  // application/x-ndjson is sent a line every second meanwhile, so the connection never sits idle.
  app.get(
    '/v1/releases/:id/affected',
    { config: { roles: OPERATORS, report: true }, schema: { params: idParams } },
    async (request, reply) => {
      if ((request.headers.accept ?? '').includes('text/csv')) {
        const worklist = await affectedApplications(db, id(request), actorOf(request));
        reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="worklist-${worklist.release.id}.csv"`);
        return worklistCsv(worklist);
      }
      const release = await getRelease(db, id(request));
      return answerWithProgress(request, reply, () => affectedApplications(db, release.id, actorOf(request)));
    },
  );
}
