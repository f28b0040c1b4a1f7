import type { FastifyInstance } from 'fastify';
import { addFreezeWindow, freezeWindows } from '../../freeze-windows/index.ts';
import type { Role } from '../../keys/index.ts';
import { londonToInstant } from '../../uk-time/index.ts';
import type { ServiceContext } from '../context.ts';

const when = { type: 'string', minLength: 1, maxLength: 40, description: 'UK time: 2026-12-22 or 2026-12-24T18:00' };

/** The body the route validates; the OpenAPI document shows the same. */
export const freezeWindowSchemas = {
  add: {
    type: 'object',
    required: ['from', 'to', 'reason'],
    additionalProperties: false,
    properties: {
      from: when,
      to: when,
      reason: { type: 'string', minLength: 1, maxLength: 2_000, description: 'why, such as "Christmas payment run"' },
    },
  },
} as const;

export const FREEZE_READERS: readonly Role[] = ['policy-author', 'approver', 'operator', 'auditor'];
export const FREEZE_WRITERS: readonly Role[] = ['operator', 'approver'];

/**
 * Freeze windows: times when no rule release may become active, and no deploy go ahead, without an
 * emergency override by two people. Adding one is recorded as done by the person holding the key.
 */
export function registerFreezeWindows(app: FastifyInstance, { db }: ServiceContext): void {
  app.get('/v1/freeze-windows', { config: { roles: FREEZE_READERS } }, async () => ({
    freezeWindows: await freezeWindows(db),
  }));

  app.post(
    '/v1/freeze-windows',
    { config: { roles: FREEZE_WRITERS }, schema: { body: freezeWindowSchemas.add } },
    async (request, reply) => {
      const input = request.body as { from: string; to: string; reason: string };
      const added = await addFreezeWindow(
        db,
        {
          startsAt: londonToInstant(input.from, 'from'),
          endsAt: londonToInstant(input.to, 'to'),
          reason: input.reason,
        },
        request.apiKey!.person,
      );
      reply.code(201);
      return added;
    },
  );
}
