import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testService } from '../../testing/index.ts';

interface Parameter {
  name: string;
  value: number | string | boolean | null;
  unit: string;
  text: string;
  status: string;
  from: string | null;
  source: string | null;
  legal: string | null;
  references: { key: string; title: string; url?: string }[];
}

describe('the rules API', () => {
  it('lists the benefits, the parameters in force on a date with their sources, and the variables, for any role, cached by ETag', async () => {
    const service = await testService();
    try {
      const get = (url: string, key: string = service.keys.assessor, etag?: string) =>
        service.app.inject({
          url,
          headers: { authorization: `Bearer ${key}`, ...(etag ? { 'if-none-match': etag } : {}) },
        });

      const benefits = await get('/v1/benefits', service.keys.auditor);
      assert.equal(benefits.statusCode, 200, benefits.body);
      const listed = benefits.json<{ benefits: { benefit: string; ruleset: { hash: string }; period: string }[] }>();
      assert.deepEqual(listed.benefits.map((b) => b.benefit).sort(), ['child-benefit', 'universal-credit']);
      const again = await get('/v1/benefits', service.keys.auditor, String(benefits.headers.etag));
      assert.equal(again.statusCode, 304, 'unchanged until a release changes a rule set');

      const parameters = await get('/v1/benefits/universal-credit/parameters?date=2025-06-01');
      assert.equal(parameters.statusCode, 200, parameters.body);
      const byName = new Map(
        parameters.json<{ date: string; parameters: Parameter[] }>().parameters.map((p) => [p.name, p]),
      );
      const taper = byName.get('earningsTaper')!;
      assert.deepEqual(
        { value: taper.value, unit: taper.unit, text: taper.text, status: taper.status, from: taper.from },
        { value: 550_000, unit: 'parts per million', text: '55%', status: 'confirmed', from: '2025-04-07' },
      );
      assert.equal(taper.legal, 'S5 reg. 22(1)(b)');
      assert.ok(
        taper.references.some((r) => r.key === 'S5' && /Universal Credit Regulations 2013/.test(r.title)),
        'the legal reference is named in full',
      );
      const allowance = byName.get('workAllowanceWithHousing') ?? [...byName.values()].find((p) => p.unit === 'pence')!;
      assert.equal(typeof allowance.value, 'number', 'money is exact, in pence');
      assert.match(allowance.text, /^£[\d,]+\.\d\d$/);

      const later = await get('/v1/benefits/universal-credit/parameters?date=2026-06-01');
      const unconfirmed = later
        .json<{ parameters: Parameter[] }>()
        .parameters.filter((p) => p.status === 'unconfirmed');
      assert.ok(unconfirmed.length > 0, 'values not yet confirmed are shown as such');
      assert.ok(
        unconfirmed.every((p) => p.value === null && p.text === 'unconfirmed'),
        'and never given a figure',
      );
      assert.notEqual(later.headers.etag, parameters.headers.etag, 'each date has its own ETag');
      const carer = later.json<{ parameters: Parameter[] }>().parameters.find((p) => p.name === 'carerElementAmount')!;
      assert.deepEqual(
        { status: carer.status, value: carer.value, text: carer.text },
        { status: 'provisional', value: 20_934, text: '£209.34' },
        'a provisional value is given, and said to be provisional',
      );
      assert.match(carer.source!, /^P1: /);

      const variables = await get('/v1/benefits/child-benefit/variables', service.keys.operator);
      assert.equal(variables.statusCode, 200, variables.body);
      const listedVariables = variables.json<{ variables: { name: string; formula: string; reads: string[] }[] }>()
        .variables;
      assert.ok(listedVariables.length > 5);
      assert.ok(listedVariables.every((v) => typeof v.formula === 'string' && Array.isArray(v.reads)));

      const unknown = await get('/v1/benefits/housing-benefit/parameters');
      assert.equal(unknown.statusCode, 404);
      assert.match(unknown.body, /give one of: /);
      const badDate = await get('/v1/benefits/universal-credit/parameters?date=2026-02-30');
      assert.equal(badDate.statusCode, 400);
      assert.match(badDate.body, /"field":"date"/);
      assert.equal((await service.app.inject({ url: '/v1/benefits' })).statusCode, 401, 'a key is needed');
    } finally {
      await service.close();
    }
  });

  it('gives the household as JSON Schema: every field, and which benefit reads which', async () => {
    const service = await testService();
    try {
      const get = (url: string, etag?: string) =>
        service.app.inject({
          url,
          headers: { authorization: `Bearer ${service.keys.caseworker}`, ...(etag ? { 'if-none-match': etag } : {}) },
        });
      interface Schema {
        $schema: string;
        required?: string[];
        properties: Record<string, { items?: { properties: Record<string, unknown>; required: string[] } }>;
        'x-entitle-reads': Record<string, string[]>;
      }
      const all = await get('/v1/household-schema');
      assert.equal(all.statusCode, 200, all.body);
      const schema = all.json<Schema>();
      assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
      const adult = schema.properties.adults!.items!;
      assert.ok('annualAdjustedNetIncome' in adult.properties && 'monthlyNetEarnings' in adult.properties);
      assert.deepEqual(adult.required, [], 'one household for several benefits: none required by all');
      assert.deepEqual(schema['x-entitle-reads']['child-benefit'], [
        'adults[].annualAdjustedNetIncome',
        'children[].dateOfBirth',
      ]);
      assert.equal((await get('/v1/household-schema', String(all.headers.etag))).statusCode, 304);

      const childBenefit = (await get('/v1/household-schema?benefit=child-benefit')).json<Schema>();
      assert.deepEqual(childBenefit.required, ['adults', 'children']);
      assert.deepEqual(childBenefit.properties.adults!.items!.required, ['annualAdjustedNetIncome']);
      assert.ok('capital' in childBenefit.properties, 'fields other benefits read are accepted');
      assert.equal((await get('/v1/household-schema?benefit=housing-benefit')).statusCode, 404);

      // The OpenAPI document holds the rules API and the several-benefits request.
      const openapi = (await service.app.inject({ url: '/openapi.json' })).json<{
        paths: Record<string, unknown>;
        components: { schemas: Record<string, unknown> };
      }>();
      for (const path of [
        '/v1/benefits',
        '/v1/benefits/{benefit}/parameters',
        '/v1/benefits/{benefit}/variables',
        '/v1/household-schema',
      ])
        assert.ok(path in openapi.paths, path);
      assert.ok('AssessmentForSeveralBenefits' in openapi.components.schemas);
    } finally {
      await service.close();
    }
  });
});
