import type { FastifyInstance } from 'fastify';
import { appendAuditEvent } from '../../audit/index.ts';
import { inputsHeldBefore, purgeInputs } from '../../decisions/index.ts';
import { EntitleError } from '../../errors/index.ts';
import { purgeFailures } from '../../incidents/index.ts';
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
 * holding the key, when it starts (with its cutoff) and when it ends (with its counts), so inputs
 * missing for any other reason stand out. One purge at a time on each instance.
 */
export function registerRetention(app: FastifyInstance, { db }: ServiceContext): void {
  let purging = false;
  app.post(
    '/v1/decisions/purge',
    { config: { roles: PURGERS, report: true }, schema: { body: retentionSchemas.purge } },
    async (request, reply) => {
      const before = new Date((request.body as { before: string }).before);
      if (Number.isNaN(before.getTime()) || before.getTime() > Date.now())
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'before is not an instant in the past', [
          { field: 'before', message: 'give an instant in the past: decisions made before it lose their inputs' },
        ]);
      if (purging) throw new EntitleError('ENTITLE_BUSY', 'a purge is already running on this instance');
      purging = true;
      const cutoff = before.toISOString();
      const actor = request.apiKey!.person;
      return answerWithProgress(request, reply, async (progress) => {
        try {
          const total = await inputsHeldBefore(db, cutoff);
          // Recorded before anything is removed: a purge stopped half way is still on the record.
          await db.transaction((tx) =>
            appendAuditEvent(tx, {
              actor,
              action: 'decisions.purge_started',
              subject: 'decisions',
              reason: `retention: removing the inputs of decisions made before ${cutoff}`,
              evidence: { before: cutoff, held: total },
            }),
          );
          progress({ done: 0, total });
          const decisions = await purgeInputs(db, cutoff, { onProgress: (done) => progress({ done, total }) });
          const releaseSamples = await purgeSampleInputs(db, cutoff);
          // The failed assessments name their applications too: the same period applies.
          const assessmentFailures = await purgeFailures(db, cutoff);
          await db.transaction((tx) =>
            appendAuditEvent(tx, {
              actor,
              action: 'decisions.purged',
              subject: 'decisions',
              reason: `retention: the inputs of decisions made before ${cutoff}`,
              evidence: { before: cutoff, decisions, releaseSamples, assessmentFailures },
            }),
          );
          return { before: cutoff, decisions, releaseSamples, assessmentFailures };
        } finally {
          purging = false;
        }
      });
    },
  );
}
