import type { FastifyInstance } from 'fastify';
import { EntitleError } from '../../errors/index.ts';
import {
  assignHolder,
  createKey,
  expiryIn,
  listKeys,
  MAX_KEY_DAYS,
  MAX_OVERLAP_DAYS,
  revokeKey,
  ROLES,
  rotateKey,
  type Role,
} from '../../keys/index.ts';
import type { ServiceContext } from '../context.ts';

const ADMINS: readonly Role[] = ['admin'];

/** The request bodies the key routes validate; the OpenAPI document shows the same. */
export const keySchemas = {
  create: {
    type: 'object',
    required: ['name', 'roles'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', maxLength: 64, description: 'a name for the key, such as alice-laptop or front-end-1' },
      roles: { type: 'array', minItems: 1, maxItems: ROLES.length, items: { enum: [...ROLES] } },
      person: {
        type: 'string',
        maxLength: 200,
        description: "who holds the key, such as Alice Smith (default: the key's name, for a service's key)",
      },
      existingPerson: {
        type: 'boolean',
        description:
          'the person holds keys already and this is another of theirs (otherwise a new person, refused if the name is taken)',
      },
      expiresInDays: {
        type: 'integer',
        minimum: 1,
        maximum: MAX_KEY_DAYS,
        description: 'the key stops working this many days from now (default: never)',
      },
    },
  },
  rotate: {
    type: 'object',
    required: ['newName', 'overlapDays'],
    additionalProperties: false,
    properties: {
      newName: { type: 'string', maxLength: 64, description: 'the name of the new key, such as front-end-2' },
      overlapDays: {
        type: 'integer',
        minimum: 1,
        maximum: MAX_OVERLAP_DAYS,
        description: 'the old key keeps working this many days, while whatever uses it moves to the new one',
      },
      expiresInDays: {
        type: 'integer',
        minimum: 1,
        maximum: MAX_KEY_DAYS,
        description: 'the new key stops working this many days from now (default: never)',
      },
    },
  },
  nameParams: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 64 } } },
  holder: {
    type: 'object',
    required: ['person'],
    additionalProperties: false,
    properties: {
      person: { type: 'string', maxLength: 200, description: 'who holds the key, such as Alice Smith' },
      existingPerson: { type: 'boolean', description: 'the person holds other keys already' },
    },
  },
} as const;

/**
 * Keys: GET /v1/whoami for `entitle login`; and, for admins, creating, listing and revoking keys,
 * each recorded in the audit chain as done by the person holding the admin key. The new key is in
 * the answer once and never stored.
 */
export function registerKeys(app: FastifyInstance, context: ServiceContext): void {
  const { db } = context;
  app.get('/v1/whoami', { config: { roles: ROLES } }, (request) => {
    const key = request.apiKey!;
    return { key: key.name, person: key.person, roles: key.roles };
  });

  app.get('/v1/keys', { config: { roles: [...ADMINS, 'auditor'] } }, () => listKeys(db));

  app.post<{
    Body: { name: string; roles: string[]; person?: string; existingPerson?: boolean; expiresInDays?: number };
  }>('/v1/keys', { config: { roles: ADMINS }, schema: { body: keySchemas.create } }, async (request, reply) => {
    const { name, roles, person, existingPerson, expiresInDays } = request.body;
    const { key, apiKey } = await createKey(db, name, roles, request.apiKey!.person, person, {
      existingPerson: existingPerson === true,
      expiresAt: expiryIn(expiresInDays, 'expiresInDays'),
    });
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({ key, name: apiKey.name, roles: apiKey.roles, person: apiKey.person, expiresAt: apiKey.expiresAt });
  });

  // Rotation: a new key for the same holder and roles; the old one keeps working for the overlap.
  app.post<{ Params: { name: string }; Body: { newName: string; overlapDays: number; expiresInDays?: number } }>(
    '/v1/keys/:name/rotate',
    { config: { roles: ADMINS }, schema: { params: keySchemas.nameParams, body: keySchemas.rotate } },
    async (request, reply) => {
      const { key, apiKey, oldExpiresAt } = await rotateKey(db, request.params.name, request.apiKey!.person, {
        newName: request.body.newName,
        overlapDays: request.body.overlapDays,
        ...(request.body.expiresInDays !== undefined ? { expiresInDays: request.body.expiresInDays } : {}),
      });
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({
          key,
          name: apiKey.name,
          roles: apiKey.roles,
          person: apiKey.person,
          expiresAt: apiKey.expiresAt,
          old: { name: request.params.name, expiresAt: oldExpiresAt },
        });
    },
  );

  // A key made before keys belonged to people is given its holder, once.
  app.post<{ Params: { name: string }; Body: { person: string; existingPerson?: boolean } }>(
    '/v1/keys/:name/holder',
    { config: { roles: ADMINS }, schema: { params: keySchemas.nameParams, body: keySchemas.holder } },
    async (request) =>
      assignHolder(db, request.params.name, request.body.person, request.apiKey!.person, {
        existingPerson: request.body.existingPerson === true,
        personField: 'person',
      }),
  );

  app.post<{ Params: { name: string } }>(
    '/v1/keys/:name/revoke',
    { config: { roles: ADMINS }, schema: { params: keySchemas.nameParams } },
    async (request) => {
      if (!(await revokeKey(db, request.params.name, request.apiKey!.person)))
        throw new EntitleError('ENTITLE_NOT_FOUND', `no active key named ${request.params.name}`, [
          { field: 'name', message: 'check the name with GET /v1/keys ("entitle keys list")' },
        ]);
      return { revoked: request.params.name };
    },
  );
}
