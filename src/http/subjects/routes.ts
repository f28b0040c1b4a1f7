import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Role } from '../../keys/index.ts';
import { fromStore } from '../../store/index.ts';
import { eraseSubject, exportSubject, type Requester } from '../../subjects/index.ts';
import type { ServiceContext } from '../context.ts';

/** Who answers a subject access request: auditors (the data protection officer's role). */
export const SUBJECT_READERS: readonly Role[] = ['auditor'];
/** Who erases: an admin, with a reason. */
export const SUBJECT_ERASERS: readonly Role[] = ['admin'];

const application = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$',
  description: 'the application reference, as the assessment gave it',
} as const;

export const subjectSchemas = {
  export: {
    type: 'object',
    required: ['application'],
    additionalProperties: false,
    properties: { application },
  },
  erase: {
    type: 'object',
    required: ['application', 'reason'],
    additionalProperties: false,
    properties: {
      application,
      reason: {
        type: 'string',
        minLength: 1,
        maxLength: 500,
        description: 'why: the erasure request and its ground, as the audit chain records it',
      },
    },
  },
} as const;

function requesterOf(request: FastifyRequest): Requester {
  return { person: request.apiKey!.person, keyId: request.apiKey!.id, keyName: request.apiKey!.name };
}

/**
 * GET /v1/subjects?application=ID: everything held about an application (a subject access
 * request), itself recorded; POST /v1/subjects/erase: its personal inputs removed, with a reason.
 */
export function registerSubjects(app: FastifyInstance, { db }: ServiceContext): void {
  app.get(
    '/v1/subjects',
    { config: { roles: SUBJECT_READERS }, schema: { querystring: subjectSchemas.export } },
    async (request) => {
      const { application: id } = request.query as { application: string };
      return fromStore(() => exportSubject(db, id, requesterOf(request)));
    },
  );
  app.post(
    '/v1/subjects/erase',
    { config: { roles: SUBJECT_ERASERS }, schema: { body: subjectSchemas.erase } },
    async (request) => {
      const { application: id, reason } = request.body as { application: string; reason: string };
      return fromStore(() => eraseSubject(db, id, requesterOf(request), reason));
    },
  );
}
