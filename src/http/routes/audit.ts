import type { FastifyInstance } from 'fastify';
import { auditEventsSince } from '../../audit/index.ts';
import { EntitleError } from '../../errors/index.ts';
import type { Role } from '../../keys/index.ts';
import type { ServiceContext } from '../context.ts';

export const AUDIT_READERS: readonly Role[] = ['auditor', 'operator', 'approver', 'policy-author'];

/** The query the route validates; the OpenAPI document shows the same. */
export const auditSchemas = {
  since: {
    type: 'object',
    required: ['since'],
    properties: {
      since: {
        type: 'string',
        format: 'date-time',
        description: 'events at or after this instant, such as 2026-12-01T00:00:00Z',
      },
    },
  },
} as const;

/**
 * The audit chain's events since an instant, oldest first: the releases, deploys, flag changes and
 * keys `entitle status` and the weekly report list. They hold people's names and what they did,
 * never citizens' data.
 */
export function registerAudit(app: FastifyInstance, { db }: ServiceContext): void {
  app.get(
    '/v1/audit-events',
    { config: { roles: AUDIT_READERS, report: true }, schema: { querystring: auditSchemas.since } },
    async (request) => {
      const { since, limit } = request.query as { since: string; limit: number };
      const from = new Date(since);
      // The format check lets a leap second through, which Date cannot hold.
      if (Number.isNaN(from.getTime()))
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'since is not an instant', [
          { field: 'since', message: 'give an instant such as 2026-12-01T00:00:00Z' },
        ]);
      return { events: await auditEventsSince(db, from.toISOString(), limit) };
    },
  );
}
