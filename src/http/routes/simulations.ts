import type { FastifyInstance } from 'fastify';
import { DecisionWriter } from '../../decisions/index.ts';
import { EntitleError } from '../../errors/index.ts';
import { recordedEnvironment } from '../../flags/index.ts';
import type { Role } from '../../keys/index.ts';
import { activeVersions } from '../../releases/index.ts';
import { recordDecisions, simulate, SIMULATED_BENEFITS, simulationOptions } from '../../simulate/index.ts';
import type { ServiceContext } from '../context.ts';
import { answerWithProgress, NDJSON } from '../progress-stream.ts';

/** The body the route validates; the OpenAPI document shows the same. */
export const simulationSchemas = {
  record: {
    type: 'object',
    required: ['households'],
    additionalProperties: false,
    properties: {
      households: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'how many requests to generate' },
      seed: {
        type: 'integer',
        minimum: 0,
        maximum: 4_294_967_295,
        description: 'the same seed gives the same requests',
      },
      benefit: { type: 'string', enum: SIMULATED_BENEFITS },
      from: { type: 'string', maxLength: 10, description: 'earliest assessment date, such as 2025-04-07' },
      to: { type: 'string', maxLength: 10, description: 'latest assessment date, such as 2026-04-05' },
    },
  },
} as const;

export const SIMULATORS: readonly Role[] = ['policy-author'];
/** The most households a run answered as one JSON document may have: it answers within seconds. */
const PLAIN_MOST = 1_000;

/**
 * Synthetic decisions (application ids SYN-...) recorded by the service, so a new service has
 * decisions to backtest releases on: each request is generated from the seed, assessed with the
 * active version and recorded as the service records a citizen's, naming the release whose version
 * decided. Never in production, one run at a time, and shed with reports under pressure.
 */
export function registerSimulations(app: FastifyInstance, context: ServiceContext): void {
  const { db } = context;
  let running = false;
  app.post(
    '/v1/simulations',
    { config: { roles: SIMULATORS, report: true }, schema: { body: simulationSchemas.record } },
    async (request, reply) => {
      const input = request.body as { households: number; seed?: number; benefit?: string; from?: string; to?: string };
      const settings = simulationOptions(input, { benefit: 'benefit', seed: 'seed', from: 'from', to: 'to' });
      // A plain JSON answer waits for the whole run: only small runs may be asked for so.
      if (!(request.headers.accept ?? '').includes(NDJSON) && input.households > PLAIN_MOST)
        throw new EntitleError('ENTITLE_INPUT_INVALID', `more than ${PLAIN_MOST} households need the progress stream`, [
          {
            field: 'households',
            message: `give at most ${PLAIN_MOST}, or send Accept: ${NDJSON} and read the progress as it comes (entitle simulate --record does)`,
          },
        ]);
      if ((await recordedEnvironment(db)) === 'production')
        throw new EntitleError('ENTITLE_FORBIDDEN', 'synthetic decisions are never recorded in production', [
          { message: "record them on a development or staging service, whose decisions are not citizens' own" },
        ]);
      const ruleSet = context.ruleSets.get(settings.benefit);
      if (!ruleSet)
        throw new EntitleError('ENTITLE_BENEFIT_UNKNOWN', `this service decides no ${settings.benefit}`, [
          { field: 'benefit', message: `give one of: ${[...context.ruleSets.keys()].join(', ')}` },
        ]);
      if (running) throw new EntitleError('ENTITLE_RATE_LIMITED', 'a simulation is already recording on this instance');
      running = true;
      return answerWithProgress(request, reply, async (progress) => {
        const started = Date.now();
        // Its own writer, a few hundred writes in flight: citizens' decisions keep their group commits.
        const writer = new DecisionWriter(db);
        try {
          const releaseId = (await activeVersions(db)).get(settings.benefit)?.releaseId;
          const summary = await recordDecisions(simulate(settings, input.households), ruleSet, writer, {
            concurrency: 256,
            ...(releaseId ? { assignment: { releaseId, reason: 'the active version' } } : {}),
            onProgress: (done) => progress({ done, total: input.households }),
          });
          return {
            ...summary,
            households: input.households,
            settings,
            ruleset: { id: ruleSet.id, hash: ruleSet.hash },
            seconds: (Date.now() - started) / 1000,
          };
        } finally {
          await writer.drain();
          await writer.close();
          running = false;
        }
      });
    },
  );
}
