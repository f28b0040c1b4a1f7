import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { canaryInput, testService, type TestService } from '../testing/index.ts';

/** Every field of the contract, as a path into the example input, with what makes it invalid. */
type Kind = 'money' | 'date' | 'bool' | 'int' | 'enum' | 'list' | 'text' | 'object';
const FIELDS: readonly [string[], Kind, string][] = [
  [['benefit'], 'text', 'benefit'],
  [['applicationId'], 'text', 'applicationId'],
  [['assessmentDate'], 'date', 'assessmentDate'],
  [['household'], 'object', 'household'],
  [['household', 'adults'], 'list', 'adults'],
  [['household', 'adults', '0', 'dateOfBirth'], 'date', 'adults[0].dateOfBirth'],
  [['household', 'adults', '0', 'monthlyNetEarnings'], 'money', 'adults[0].monthlyNetEarnings'],
  [
    ['household', 'adults', '0', 'limitedCapabilityForWorkRelatedActivity'],
    'bool',
    'adults[0].limitedCapabilityForWorkRelatedActivity',
  ],
  [['household', 'adults', '0', 'carer'], 'bool', 'adults[0].carer'],
  [['household', 'children', '0', 'dateOfBirth'], 'date', 'children[0].dateOfBirth'],
  [['household', 'children', '0', 'disability'], 'enum', 'children[0].disability'],
  [['household', 'monthlyEligibleHousingCosts'], 'money', 'monthlyEligibleHousingCosts'],
  [['household', 'nonDependants'], 'int', 'nonDependants'],
  [['household', 'monthlyChildcareCosts'], 'money', 'monthlyChildcareCosts'],
  [['household', 'capital'], 'money', 'capital'],
  [['household', 'livesInGreaterLondon'], 'bool', 'livesInGreaterLondon'],
];

const notA: Record<Kind, fc.Arbitrary<unknown>> = {
  money: fc.oneof(
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.double({ min: -1e6, max: -0.01 }),
    fc.integer({ min: 1, max: 999 }).map((n) => n + 0.001),
    fc.constant(1e20),
    fc.array(fc.integer()),
  ),
  date: fc.oneof(
    fc.string().filter((s) => !/^\d{4}-\d{2}-\d{2}$/.test(s)),
    fc.integer(),
    fc.constant('2025-02-30'),
    fc.constant('1999-13-01'),
    fc.constant(null),
  ),
  bool: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant('true')),
  int: fc.oneof(
    fc.double({ min: 0.1, max: 5.9 }).filter((n) => !Number.isInteger(n)),
    fc.string(),
    fc.integer({ min: -100, max: -1 }),
    fc.integer({ min: 21, max: 1e6 }),
    fc.constant(null),
  ),
  enum: fc.oneof(
    fc.string().filter((s) => !['none', 'lower', 'higher'].includes(s)),
    fc.integer(),
    fc.constant(null),
  ),
  list: fc.oneof(
    fc.string(),
    fc.integer(),
    fc.constant({}),
    fc.constant(null),
    fc.constant([]),
    fc.array(fc.constant({}), { minLength: 3, maxLength: 5 }),
  ),
  text: fc.oneof(
    fc.integer(),
    fc.constant(null),
    fc.constant(''),
    fc.constant('x'.repeat(65)),
    fc.constant('no spaces allowed'),
  ),
  object: fc.oneof(fc.string(), fc.integer(), fc.array(fc.anything()), fc.constant(null)),
};

/** The example input with one field broken: replaced by a wrong value, removed, or joined by an unknown field. */
const brokenInput = fc.constantFrom(...FIELDS).chain(([path, kind, field]) =>
  fc.oneof(
    notA[kind].map((value) => ({ path, value: value, remove: false, field })),
    fc.constant({ path, value: undefined, remove: true, field }),
    fc.stringMatching(/^[a-z][A-Za-z]{2,20}$/).map((name) => ({
      path: [...path.slice(0, -1), `unknown${name}`],
      value: 1,
      remove: false,
      field: undefined as string | undefined,
    })),
  ),
);

function apply(change: { path: string[]; value: unknown; remove: boolean }): unknown {
  const input = structuredClone(canaryInput) as Record<string, unknown>;
  let target = input;
  for (const key of change.path.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = change.path[change.path.length - 1]!;
  if (change.remove) delete target[last];
  else target[last] = change.value;
  return input;
}

describe('invalid assessment input', () => {
  let service: TestService;
  before(async () => {
    service = await testService();
  });
  after(() => service.close());

  it('10,000 generated invalid payloads all get 400 naming the field at fault, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(brokenInput, async (change) => {
        const response = await service.app.inject({
          method: 'POST',
          url: '/v1/assessments',
          headers: { authorization: `Bearer ${service.keys.assessor}` },
          payload: apply(change) as object,
        });
        assert.equal(response.statusCode, 400, `${change.path.join('.')}: ${response.body}`);
        assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
        const problem = response.json<{ errors?: { field?: string; message: string }[] }>();
        assert.ok(problem.errors && problem.errors.length > 0, response.body);
        for (const error of problem.errors) assert.ok(error.message.length > 0);
        if (change.field && !change.path[change.path.length - 1]!.startsWith('unknown')) {
          const fields = problem.errors.map((e) => e.field ?? '');
          assert.ok(
            fields.some((f) => f === change.field || f.startsWith(`${change.field}`) || change.field!.startsWith(f)),
            `expected ${change.field} among ${fields.join(', ')}`,
          );
        }
      }),
      { numRuns: 10_000 },
    );
  });

  it('any JSON body at all gets a clear 4xx or a decision, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (body) => {
        const response = await service.app.inject({
          method: 'POST',
          url: '/v1/assessments',
          headers: { authorization: `Bearer ${service.keys.assessor}`, 'content-type': 'application/json' },
          payload: JSON.stringify(body),
        });
        assert.ok(response.statusCode < 500, `${response.statusCode}: ${response.body}`);
      }),
      { numRuns: 2_000 },
    );
  });
});
