import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SHARED_HOUSEHOLD as household, testService, type TestService } from '../../testing/index.ts';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

interface Answer {
  decisionId: string;
  benefit: string;
  outcome: {
    amount: number;
    fieldsUsed?: string[];
    provisional?: boolean;
    provisionalParameters?: string[];
  };
  explanation: string[];
}

describe('one household, every benefit', () => {
  let service: TestService;
  before(async () => {
    service = await testService();
  });
  after(() => service.close());

  const assess = (body: unknown, headers: Record<string, string> = {}) =>
    service.app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: { ...bearer(service.keys.assessor), ...headers },
      payload: body as object,
    });
  const count = async () =>
    Number((await service.db.query<{ n: string }>('SELECT count(*) AS n FROM decisions')).rows[0]!.n);

  it('assesses the same household JSON for each benefit alone, unchanged', async () => {
    const base = { applicationId: 'HH-0001', assessmentDate: '2025-06-01', household };
    const uc = await assess({ ...base, benefit: 'universal-credit' });
    const cb = await assess({ ...base, benefit: 'child-benefit' });
    assert.equal(uc.statusCode, 201, uc.body);
    assert.equal(cb.statusCode, 201, cb.body);
    // Single: 400.14 + 339.00 (first child, born before April 2017) + 292.81 = 1031.95;
    // 0.55 x (900 - 684) = 118.80; 1031.95 - 118.80. Child Benefit: 26.05 + 17.25 a week.
    assert.equal(uc.json<Answer>().outcome.amount, 913.15);
    assert.equal(cb.json<Answer>().outcome.amount, 43.3);
    // Each decision lists the household fields its rule set read, and only those.
    assert.deepEqual(cb.json<Answer>().outcome.fieldsUsed, [
      'adults[].annualAdjustedNetIncome',
      'children[].dateOfBirth',
    ]);
    assert.ok(uc.json<Answer>().outcome.fieldsUsed!.includes('adults[].monthlyNetEarnings'));
    assert.ok(!uc.json<Answer>().outcome.fieldsUsed!.includes('adults[].annualAdjustedNetIncome'));
  });

  it('records one decision per benefit named, together, and answers with each', async () => {
    const before = await count();
    const response = await assess({
      benefits: ['universal-credit', 'child-benefit'],
      applicationId: 'HH-0002',
      assessmentDate: '2025-06-01',
      household,
    });
    assert.equal(response.statusCode, 201, response.body);
    const { decisions } = response.json<{ decisions: Answer[] }>();
    assert.deepEqual(
      decisions.map((d) => [d.benefit, d.outcome.amount]),
      [
        ['universal-credit', 913.15],
        ['child-benefit', 43.3],
      ],
    );
    assert.equal((await count()) - before, 2);
    // Each decision reads back, with the request it was made from.
    for (const decision of decisions) {
      const read = await service.app.inject({
        url: `/v1/decisions/${decision.decisionId}`,
        headers: bearer(service.keys.caseworker),
      });
      assert.equal(read.statusCode, 200);
      assert.equal(read.json<{ inputs: { benefit: string } }>().inputs.benefit, decision.benefit);
    }
  });

  it('records none when any benefit cannot decide, and says which', async () => {
    const before = await count();
    // A disabled child's 2026/27 lower rate is unconfirmed: Universal Credit refuses; Child
    // Benefit alone could decide, but the request is all or nothing.
    const response = await assess({
      benefits: ['child-benefit', 'universal-credit'],
      applicationId: 'HH-0003',
      assessmentDate: '2026-06-01',
      household: { ...household, children: [{ dateOfBirth: '2019-09-09', disability: 'lower' }] },
    });
    assert.equal(response.statusCode, 422, response.body);
    const problem = response.json<{ code: string; detail: string }>();
    assert.equal(problem.code, 'ENTITLE_PARAMETER_UNCONFIRMED');
    assert.match(problem.detail, /^universal-credit: .*Disabled child addition, lower rate.*no decision was recorded/);
    assert.equal(await count(), before);
  });

  it('lists every problem with the household once, whichever benefits found it', async () => {
    const response = await assess({
      benefits: ['universal-credit', 'child-benefit'],
      applicationId: 'HH-0004',
      assessmentDate: '2025-06-01',
      household: { ...household, capitl: 10, adults: [{ ...household.adults[0], dateOfBirth: 'yesterday' }] },
    });
    assert.equal(response.statusCode, 400);
    const problems = response.json<{ errors: { field: string; message: string }[] }>().errors;
    assert.deepEqual(problems.filter((p) => p.field === 'capitl').length, 1);
    assert.match(problems.find((p) => p.field === 'capitl')!.message, /did you mean capital\?/);
    assert.equal(problems.filter((p) => p.field === 'adults[0].dateOfBirth').length, 1);

    // A field one benefit requires says which; an unknown benefit is listed with the rest.
    const missing = await assess({
      benefits: ['universal-credit', 'child-benefit', 'housing-benefit'],
      applicationId: 'HH-0004',
      assessmentDate: '2025-06-01',
      household: { ...household, capitl: 10, adults: [{ ...household.adults[0], annualAdjustedNetIncome: undefined }] },
    });
    assert.equal(missing.statusCode, 400);
    const listed = missing.json<{ errors: { field: string; message: string }[] }>().errors;
    assert.match(
      listed.find((p) => p.field === 'adults[0].annualAdjustedNetIncome')!.message,
      /^is required: .*\(child-benefit reads it\)$/,
    );
    assert.ok(
      listed.some((p) => p.field === 'benefits[2]'),
      JSON.stringify(listed),
    );
    assert.ok(listed.some((p) => p.field === 'capitl'));
  });

  it('refuses a list of benefits that is not one, naming the field', async () => {
    const base = { applicationId: 'HH-0005', assessmentDate: '2025-06-01', household };
    for (const [body, field] of [
      [{ ...base, benefits: [] }, 'benefits'],
      [{ ...base, benefits: 'child-benefit' }, 'benefits'],
      [{ ...base, benefits: ['child-benefit', 'child-benefit'] }, 'benefits[1]'],
      [{ ...base, benefits: ['child-benefit'], benefit: 'child-benefit' }, 'benefit'],
      [{ ...base, benefits: ['child-benefit', 'housing-benefit'] }, 'benefits[1]'],
    ] as const) {
      const response = await assess(body);
      assert.ok([400, 404].includes(response.statusCode), `${JSON.stringify(body.benefits)}: ${response.statusCode}`);
      assert.ok(
        response.json<{ errors: { field: string }[] }>().errors.some((p) => p.field === field),
        `${field} in ${response.body}`,
      );
    }
  });

  it('gives the same decisions back for a retry with the same Idempotency-Key, recording nothing new', async () => {
    const body = {
      benefits: ['universal-credit', 'child-benefit'],
      applicationId: 'HH-0006',
      assessmentDate: '2025-06-01',
      household,
    };
    const first = await assess(body, { 'idempotency-key': 'hh-0006-a' });
    const before = await count();
    const again = await assess(body, { 'idempotency-key': 'hh-0006-a' });
    assert.equal(again.statusCode, 201);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.deepEqual(
      again.json<{ decisions: Answer[] }>().decisions.map((d) => d.decisionId),
      first.json<{ decisions: Answer[] }>().decisions.map((d) => d.decisionId),
    );
    assert.equal(await count(), before);

    // A list of one benefit is answered as a list, the first time and on a retry.
    const one = { ...body, benefits: ['child-benefit'], applicationId: 'HH-0006-ONE' };
    const once = await assess(one, { 'idempotency-key': 'hh-0006-b' });
    const twice = await assess(one, { 'idempotency-key': 'hh-0006-b' });
    assert.equal(once.json<{ decisions: Answer[] }>().decisions.length, 1, once.body);
    assert.deepEqual(twice.json<{ decisions: Answer[] }>().decisions, once.json<{ decisions: Answer[] }>().decisions);
  });

  it('decides a 2026/27 household on a provisional rate, marks it, and counts it', async () => {
    const response = await assess({
      benefits: ['universal-credit', 'child-benefit'],
      applicationId: 'HH-0007',
      assessmentDate: '2026-06-01',
      household: {
        ...household,
        adults: [{ ...household.adults[0], monthlyNetEarnings: 0, carer: true }],
      },
    });
    assert.equal(response.statusCode, 201, response.body);
    const [uc, cb] = response.json<{ decisions: Answer[] }>().decisions;
    assert.equal(uc!.outcome.provisional, true);
    assert.deepEqual(uc!.outcome.provisionalParameters, ['carerElementAmount']);
    assert.match(uc!.explanation.at(-1)!, /provisional rate: Carer element £209\.34/);
    // 27.05 + 17.90: both confirmed.
    assert.equal(cb!.outcome.amount, 44.95);
    assert.equal(cb!.outcome.provisional, undefined);
    const metrics = await service.app.inject({ url: '/metrics' });
    assert.match(
      metrics.body,
      /entitle_provisional_decisions_total\{benefit="universal-credit",parameter="carerElementAmount"\} 1/,
    );
  });
});
