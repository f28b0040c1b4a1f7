import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DEGRADATION_STEPS } from '../../capacity/index.ts';
import {
  approveFlagChange,
  flagHistory,
  pendingFlagChanges,
  recordedEnvironment,
  rejectFlagChange,
  requestFlagChange,
  staleFlags,
} from '../../flags/index.ts';
import type { Role } from '../../keys/index.ts';
import type { ServiceContext } from '../context.ts';

const READERS: readonly Role[] = ['operator', 'auditor', 'approver'];
const CHANGERS: readonly Role[] = ['operator'];
const DECIDERS: readonly Role[] = ['operator', 'approver'];

const reason = { type: 'string', minLength: 1, maxLength: 2000, description: 'why: recorded in the audit chain' };

/** The request bodies and parameters the flag routes validate; the OpenAPI document shows the same. */
export const flagSchemas = {
  keyParams: {
    type: 'object',
    required: ['key'],
    properties: { key: { type: 'string', maxLength: 100, description: 'flag key, such as shadow-evaluation' } },
  },
  changeParams: {
    type: 'object',
    required: ['id'],
    properties: { id: { type: 'string', maxLength: 40, description: 'change id, such as FC-3' } },
  },
  change: {
    type: 'object',
    required: ['reason'],
    additionalProperties: false,
    properties: {
      enabled: { type: 'boolean' },
      rolloutBasisPoints: {
        type: 'integer',
        minimum: 0,
        maximum: 10_000,
        description: 'for a release flag: the share of applications it is on for, in hundredths of a percent',
      },
      owner: { type: 'string', minLength: 1, maxLength: 100, description: 'the team that answers for the flag' },
      expiresOn: { type: 'string', format: 'date', description: 'YYYY-MM-DD after which the flag is stale' },
      reason,
    },
  },
  decision: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason } },
} as const;

interface ChangeBody {
  enabled?: boolean;
  rolloutBasisPoints?: number;
  owner?: string;
  expiresOn?: string;
  reason: string;
}

/**
 * Feature flags: GET /v1/flags is the flags as this instance follows them, what it is dropping
 * under pressure, the environment and the changes waiting for a second person. Changes are asked
 * for, approved and rejected here, each recorded as done by the person holding the key; in
 * production a change waits for someone else to approve it (the two-person rule compares people).
 */
export function registerFlags(app: FastifyInstance, context: ServiceContext): void {
  const { flags, capacity, db } = context;
  const person = (request: FastifyRequest) => request.apiKey!.person;

  app.get('/v1/flags', { config: { roles: READERS } }, async () => ({
    version: flags.version,
    environment: await recordedEnvironment(db),
    flags: flags.flags,
    pending: await pendingFlagChanges(db),
    degradation: {
      level: capacity.degradation.level,
      automatic: flags.isOn('automatic-degradation'),
      steps: DEGRADATION_STEPS.map((step) => ({
        step,
        available: capacity.degradation.allows(step),
        droppedByPressure: capacity.degradation.dropsAutomatically(step),
      })),
      pressure: capacity.degradation.reading,
    },
    admission: {
      inFlight: capacity.admission.inFlight,
      queued: capacity.admission.queued,
      settings: capacity.admission.settings,
    },
  }));

  app.get('/v1/flags/stale', { config: { roles: READERS } }, () => staleFlags(db));

  app.get<{ Params: { key: string } }>(
    '/v1/flags/:key/history',
    { config: { roles: READERS }, schema: { params: flagSchemas.keyParams } },
    (request) => flagHistory(db, request.params.key),
  );

  app.post<{ Params: { key: string }; Body: ChangeBody }>(
    '/v1/flags/:key/changes',
    { config: { roles: CHANGERS }, schema: { params: flagSchemas.keyParams, body: flagSchemas.change } },
    async (request, reply) => {
      const { reason: why, ...settings } = request.body;
      const result = await requestFlagChange(db, {
        key: request.params.key,
        settings,
        actor: person(request),
        reason: why,
      });
      // Applied at once (201), or waiting for a second person (202).
      return reply.code(result.applied ? 201 : 202).send(result);
    },
  );

  app.get('/v1/flag-changes', { config: { roles: READERS } }, () => pendingFlagChanges(db));

  app.post<{ Params: { id: string }; Body: { reason: string } }>(
    '/v1/flag-changes/:id/approve',
    { config: { roles: DECIDERS }, schema: { params: flagSchemas.changeParams, body: flagSchemas.decision } },
    (request) => approveFlagChange(db, request.params.id, person(request), request.body.reason),
  );

  app.post<{ Params: { id: string }; Body: { reason: string } }>(
    '/v1/flag-changes/:id/reject',
    { config: { roles: DECIDERS }, schema: { params: flagSchemas.changeParams, body: flagSchemas.decision } },
    (request) => rejectFlagChange(db, request.params.id, person(request), request.body.reason),
  );
}
