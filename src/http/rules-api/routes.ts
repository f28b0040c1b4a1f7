import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EntitleError } from '../../errors/index.ts';
import { ROLES } from '../../keys/index.ts';
import { parametersOn, parseIsoDate, variablesOf, type RuleSet } from '../../rules/index.ts';
import { londonDate } from '../../uk-time/index.ts';
import type { ServiceContext } from '../context.ts';
import { combinedHouseholdSchema, householdSchema, readsOf } from './household-schema.ts';

/** The parameters the routes validate; the OpenAPI document shows the same. */
export const rulesSchemas = {
  benefit: {
    type: 'object',
    required: ['benefit'],
    properties: { benefit: { type: 'string', maxLength: 64, description: 'such as universal-credit' } },
  },
  date: {
    type: 'object',
    properties: {
      date: { type: 'string', maxLength: 10, description: 'the date, YYYY-MM-DD (default: today in the UK)' },
    },
  },
} as const;

/**
 * The rules API, after OpenFisca's: which benefits this service decides, each parameter's value in
 * force on a date with its source, legal reference and status, and each variable with its
 * formula. The active rule set answers, so what is shown is what decides. Answers carry an ETag
 * made from the rule sets' hashes: a client that sends it back gets 304 until a release changes them.
 */
export function registerRules(app: FastifyInstance, { ruleSets }: ServiceContext): void {
  const cached = (request: FastifyRequest, reply: FastifyReply, tag: string): boolean => {
    const etag = `"${createHash('sha256').update(tag).digest('base64url').slice(0, 27)}"`;
    reply.header('etag', etag).header('cache-control', 'private, no-cache');
    if (request.headers['if-none-match'] !== etag) return false;
    void reply.code(304).send();
    return true;
  };
  const ruleSetOf = (benefit: string): RuleSet => {
    const found = ruleSets.get(benefit);
    if (!found)
      throw new EntitleError('ENTITLE_NOT_FOUND', `this service decides no benefit called ${benefit}`, [
        { field: 'benefit', message: `give one of: ${[...ruleSets.keys()].join(', ')}` },
      ]);
    return found;
  };

  app.get('/v1/benefits', { config: { roles: ROLES } }, async (request, reply) => {
    const all = [...ruleSets.values()];
    if (cached(request, reply, all.map((r) => r.hash).join())) return reply;
    return {
      benefits: all.map((r) => ({
        benefit: r.benefit,
        title: r.title,
        ruleset: { id: r.id, hash: r.hash },
        period: r.program.period,
      })),
    };
  });

  app.get(
    '/v1/benefits/:benefit/parameters',
    { config: { roles: ROLES }, schema: { params: rulesSchemas.benefit, querystring: rulesSchemas.date } },
    async (request, reply) => {
      const ruleSet = ruleSetOf((request.params as { benefit: string }).benefit);
      const date = (request.query as { date?: string }).date ?? londonDate(new Date().toISOString());
      const day = parseIsoDate(date);
      if (day === undefined)
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'date is not a date', [
          { field: 'date', message: 'give a date such as 2026-06-01' },
        ]);
      if (cached(request, reply, `${ruleSet.hash}|${date}`)) return reply;
      return {
        benefit: ruleSet.benefit,
        ruleset: { id: ruleSet.id, hash: ruleSet.hash },
        date,
        parameters: parametersOn(ruleSet.program, day),
      };
    },
  );

  app.get(
    '/v1/household-schema',
    {
      config: { roles: ROLES },
      schema: { querystring: { type: 'object', properties: rulesSchemas.benefit.properties } },
    },
    async (request, reply) => {
      const { benefit } = request.query as { benefit?: string };
      const chosen = benefit === undefined ? [...ruleSets.values()] : [ruleSetOf(benefit)];
      if (cached(request, reply, `household|${benefit ?? ''}|${chosen.map((r) => r.hash).join()}`)) return reply;
      const schema =
        benefit === undefined
          ? combinedHouseholdSchema(chosen)
          : {
              title: `Household for ${chosen[0]!.title}`,
              ...householdSchema(chosen[0]!.program.inputs),
              'x-entitle-reads': { [chosen[0]!.benefit]: readsOf(chosen[0]!) },
            };
      return {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        ...schema,
        'x-entitle-rulesets': Object.fromEntries(chosen.map((r) => [r.benefit, { id: r.id, hash: r.hash }])),
      };
    },
  );

  app.get(
    '/v1/benefits/:benefit/variables',
    { config: { roles: ROLES }, schema: { params: rulesSchemas.benefit } },
    async (request, reply) => {
      const ruleSet = ruleSetOf((request.params as { benefit: string }).benefit);
      if (cached(request, reply, ruleSet.hash)) return reply;
      return {
        benefit: ruleSet.benefit,
        ruleset: { id: ruleSet.id, hash: ruleSet.hash },
        variables: variablesOf(ruleSet.program),
      };
    },
  );
}
