import type { FastifyInstance } from 'fastify';
import {
  approveDeploy,
  checkDeployWindow,
  deployHistory,
  heightenedWindow,
  recordDeploy,
  recordDeployWatch,
  STRATEGIES,
  WATCH_VERDICTS,
  type Build,
  type DeployApprovalInput,
} from '../../deploys/index.ts';
import { ENVIRONMENTS } from '../../environments/index.ts';
import type { Role } from '../../keys/index.ts';
import { londonToInstant } from '../../uk-time/index.ts';
import type { ServiceContext } from '../context.ts';
import { noBodyIsEmpty } from '../request-guard.ts';

const build = {
  environment: { type: 'string', enum: ENVIRONMENTS },
  version: { type: 'string', minLength: 1, maxLength: 100, description: 'such as 1.4.2' },
  commit: { type: 'string', minLength: 1, maxLength: 40, description: 'the whole git commit: 40 hex characters' },
} as const;
const reason = { type: 'string', minLength: 1, maxLength: 2_000 } as const;

/** The bodies the routes validate; the OpenAPI document shows the same. */
export const deploySchemas = {
  approve: {
    type: 'object',
    required: ['environment', 'version', 'commit', 'reason'],
    additionalProperties: false,
    properties: { ...build, emergency: { type: 'boolean' }, reason },
  },
  record: {
    type: 'object',
    required: ['environment', 'version', 'commit', 'strategy', 'verification'],
    additionalProperties: false,
    properties: {
      ...build,
      strategy: { type: 'string', enum: STRATEGIES },
      verification: { type: 'string', minLength: 1, maxLength: 500, description: 'what verified it: a run address' },
    },
  },
  windowCheck: {
    type: 'object',
    additionalProperties: false,
    properties: {
      at: { type: 'string', maxLength: 40, description: 'a UK time to check instead of now' },
      build: {
        type: 'object',
        required: ['environment', 'version', 'commit'],
        additionalProperties: false,
        description:
          'the build about to be deployed: for production, someone other than the caller must have approved it',
        properties: build,
      },
      emergency: {
        type: 'object',
        required: ['reason'],
        additionalProperties: false,
        description: 'override a freeze window for the build: two approvers must have approved it as an emergency',
        properties: { reason },
      },
    },
  },
  watch: {
    type: 'object',
    required: ['environment', 'version', 'commit', 'startedAt', 'endedAt', 'verdict', 'breaches'],
    additionalProperties: false,
    properties: {
      ...build,
      startedAt: { type: 'string', maxLength: 40, description: 'when the watch began (ISO 8601)' },
      endedAt: { type: 'string', maxLength: 40, description: 'when it ended (ISO 8601)' },
      verdict: {
        type: 'string',
        enum: WATCH_VERDICTS,
        description:
          'held: nothing broke; broke: a journey burned, a replay differed or an alert paged; unwatched: Prometheus could not be read',
      },
      breaches: { type: 'array', maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 500 } },
      incident: { type: 'string', minLength: 1, maxLength: 40, description: 'the incident the watch opened' },
    },
  },
  heightened: {
    type: 'object',
    required: ['environment'],
    properties: { environment: build.environment },
  },
  history: {
    type: 'object',
    properties: {
      environment: build.environment,
      limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 50 },
    },
  },
} as const;

export const DEPLOY_APPROVERS: readonly Role[] = ['approver'];
export const DEPLOYERS: readonly Role[] = ['operator'];
export const DEPLOY_READERS: readonly Role[] = ['operator', 'approver', 'auditor'];

/**
 * The deploy record through the service: approvers approve a build with their own keys, and the
 * pipeline, with its own key, checks the freeze window and records the deploy or rollback. Every
 * person named in a record or an override is one who acted with their own key.
 */
export function registerDeploys(app: FastifyInstance, { db }: ServiceContext): void {
  app.post(
    '/v1/deploys/approvals',
    { config: { roles: DEPLOY_APPROVERS }, schema: { body: deploySchemas.approve } },
    async (request, reply) => {
      reply.code(201);
      return approveDeploy(db, request.body as DeployApprovalInput, request.apiKey!.person);
    },
  );

  app.post(
    '/v1/deploys',
    { config: { roles: DEPLOYERS }, schema: { body: deploySchemas.record } },
    async (request, reply) => {
      const input = request.body as Parameters<typeof recordDeploy>[1];
      const { record } = await recordDeploy(db, input, request.apiKey!.person);
      reply.code(201);
      return record;
    },
  );

  app.get(
    '/v1/deploys',
    { config: { roles: DEPLOY_READERS }, schema: { querystring: deploySchemas.history } },
    async (request) => {
      const { environment, limit } = request.query as { environment?: string; limit: number };
      return { deploys: await deployHistory(db, environment, limit) };
    },
  );

  app.get(
    '/v1/deploys/heightened',
    { config: { roles: DEPLOY_READERS }, schema: { querystring: deploySchemas.heightened } },
    (request) => heightenedWindow(db, (request.query as { environment: string }).environment),
  );

  app.post(
    '/v1/deploys/watches',
    { config: { roles: DEPLOYERS }, schema: { body: deploySchemas.watch } },
    async (request, reply) => {
      const watch = await recordDeployWatch(db, request.body, request.apiKey!.person);
      reply.code(201);
      return watch;
    },
  );

  app.post(
    '/v1/deploys/window-check',
    {
      preValidation: noBodyIsEmpty,
      config: { roles: DEPLOYERS },
      schema: { body: deploySchemas.windowCheck },
    },
    async (request) => {
      const input = request.body as { at?: string; build?: Build; emergency?: { reason: string } };
      const at = input.at === undefined ? new Date() : new Date(londonToInstant(input.at, 'at'));
      const check = await checkDeployWindow(db, at, { ...input, actor: request.apiKey!.person });
      return { at: at.toISOString(), ...check };
    },
  );
}
