import type { FastifyInstance } from 'fastify';
import { appendAuditEvent } from '../../audit/index.ts';
import { inputsHeldBefore, purgeInputs } from '../../decisions/index.ts';
import { EntitleError } from '../../errors/index.ts';
import type { Role } from '../../keys/index.ts';
import { purgeSampleInputs } from '../../releases/index.ts';
import type { ServiceContext } from '../context.ts';
import { answerWithProgress } from '../progress-stream.ts';

export const PURGERS: readonly Role[] = ['operator'];

/** The body the route validates; the OpenAPI document shows the same. */
export const retentionSchemas = {
  purge: {
    type: 'object',
    required: ['before'],
    additionalProperties: false,
    properties: {
      before: {
        type: 'string',
        format: 'date-time',
        description: 'remove the inputs of decisions made before this instant (entitle decisions purge works it out)',
      },
    },
  },
} as const;

/**
 * Retention: the personal inputs of decisions made before an instant are removed, in batches,
 * with the inputs and traces of release comparison samples. Decisions, their outcomes and both
 * chains stay and still verify. The purge is recorded in the audit chain as done by the person
 * holding the key, with its cutoff and counts, so inputs missing for any other reason stand out.
 */
export function registerRetention(app: FastifyInstance, { db }: ServiceContext): void {
  app.post(
    '/v1/decisions/purge',
    { config: { roles: PURGERS, report: true }, schema: { body: retentionSchemas.purge } },
    async (request, reply) => {
      const before = new Date((request.body as { before: string }).before).toISOString();
      if (before > new Date().toISOString())
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'before is in the future', [
          { field: 'before', message: 'give an instant in the past: decisions made before it lose their inputs' },
        ]);
      const total = await inputsHeldBefore(db, before);
      return answerWithProgress(request, reply, async (progress) => {
        progress({ done: 0, total });
        const decisions = await purgeInputs(db, before, { onProgress: (done) => progress({ done, total }) });
        const releaseSamples = await purgeSampleInputs(db, before);
        await db.transaction((tx) =>
          appendAuditEvent(tx, {
            actor: request.apiKey!.person,
            action: 'decisions.purged',
            subject: 'decisions',
            reason: `retention: the inputs of decisions made before ${before}`,
            evidence: { before, decisions, releaseSamples },
          }),
        );
        return { before, decisions, releaseSamples };
      });
    },
  );
}
