import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readsOf } from '../decisions/index.ts';
import { routesOf } from './app.ts';
import { differences } from '../replay/index.ts';
import { assembleApp } from '../service/index.ts';
import type { Database } from '../store/index.ts';
import { canaryInput, testService, verifyRecord, type TestService } from '../testing/index.ts';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('the assessment service', () => {
  let service: TestService;
  before(async () => {
    service = await testService();
  });
  after(() => service.close());

  const assess = (body: unknown, key = service.keys.assessor) =>
    service.app.inject({ method: 'POST', url: '/v1/assessments', headers: bearer(key), payload: body as object });

  it('assesses, records, returns the decision, and the decision reads back exactly', async () => {
    const response = await assess(canaryInput);
    assert.equal(response.statusCode, 201, response.body);
    const decision = response.json<{
      decisionId: string;
      outcome: { amount: number };
      ruleset: { hash: string };
      explanation: string[];
      recordHash: string;
    }>();
    assert.match(decision.decisionId, /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    assert.equal(response.headers.location, `/v1/decisions/${decision.decisionId}`);
    assert.match(decision.ruleset.hash, /^sha256:/);
    assert.ok(decision.explanation.length > 0);

    const read = await service.app.inject({
      url: `/v1/decisions/${decision.decisionId}`,
      headers: bearer(service.keys.caseworker),
    });
    assert.equal(read.statusCode, 200);
    const stored = read.json<{ inputs: unknown; outcome: unknown; recordHash: string }>();
    assert.deepEqual(stored.inputs, canaryInput);
    assert.deepEqual(stored.outcome, decision.outcome);
    assert.equal(stored.recordHash, decision.recordHash);
    assert.deepEqual(
      (await readsOf(service.db, decision.decisionId)).map((r) => [r.keyName, r.action]),
      [['test-caseworker', 'read']],
    );
    const reads = await service.app.inject({
      url: `/v1/decisions/${decision.decisionId}/reads`,
      headers: bearer(service.keys.auditor),
    });
    assert.deepEqual(
      reads.json<{ reads: { keyName: string }[] }>().reads.map((r) => r.keyName),
      ['test-caseworker'],
    );
    assert.equal(
      (
        await service.app.inject({
          url: `/v1/decisions/${decision.decisionId}/reads`,
          headers: bearer(service.keys.caseworker),
        })
      ).statusCode,
      403,
    );
  });

  it('replays a decision with its recorded rule set and reports a match', async () => {
    const { decisionId } = (await assess(canaryInput)).json<{ decisionId: string }>();
    const replay = await service.app.inject({
      method: 'POST',
      url: `/v1/decisions/${decisionId}/replay`,
      headers: bearer(service.keys.auditor),
    });
    assert.equal(replay.statusCode, 200);
    const body = replay.json<{ match: boolean; differences: unknown[] }>();
    assert.equal(body.match, true);
    assert.deepEqual(body.differences, []);
  });

  it('names the paths that differ between a recorded and a replayed decision', () => {
    assert.deepEqual(
      differences(
        { outcome: { amount: 764.92, elements: { a: 1 } } },
        { outcome: { amount: 1, elements: { a: 1 } } },
      ).map((d) => d.path),
      ['outcome.amount'],
    );
  });

  it('refuses without a key (401), with the wrong role (403), and says which roles', async () => {
    const none = await service.app.inject({ method: 'POST', url: '/v1/assessments', payload: canaryInput });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(none.json<{ code: string }>().code, 'ENTITLE_UNAUTHENTICATED');
    const wrong = await assess(canaryInput, service.keys.caseworker);
    assert.equal(wrong.statusCode, 403);
    assert.match(wrong.json<{ detail: string }>().detail, /assessor/);
    assert.equal((await assess(canaryInput, 'ent_not-a-real-key')).statusCode, 401);
    assert.equal(
      (
        await service.app.inject({
          url: `/v1/decisions/01a200bd-b44a-713a-a393-827e74284135`,
          headers: bearer(service.keys.assessor),
        })
      ).statusCode,
      403,
    );
    assert.equal((await assess(canaryInput, service.keys.admin)).statusCode, 201);
  });

  it('answers invalid input with 400 and every field at fault, as problem+json', async () => {
    const bad = {
      ...canaryInput,
      assessmentDate: '2025-13-01',
      household: {
        ...canaryInput.household,
        capital: -1,
        adults: [{ ...canaryInput.household.adults[0], dateOfBirth: 'yesterday' }],
      },
    };
    const response = await assess(bad);
    assert.equal(response.statusCode, 400);
    const problem = response.json<{
      type: string;
      code: string;
      status: number;
      errors: { field: string; message: string }[];
    }>();
    assert.equal(problem.code, 'ENTITLE_INPUT_INVALID');
    assert.equal(problem.status, 400);
    assert.match(problem.type, /^urn:entitle:problem:/);
    assert.deepEqual(problem.errors.map((e) => e.field).sort(), ['adults[0].dateOfBirth', 'assessmentDate', 'capital']);
  });

  it('answers an unknown benefit, bad JSON, the wrong media type and a too-large body with clear 4xx problems', async () => {
    assert.equal(
      (await assess({ ...canaryInput, benefit: 'pension' })).json<{ code: string }>().code,
      'ENTITLE_BENEFIT_UNKNOWN',
    );
    const badJson = await service.app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: { ...bearer(service.keys.assessor), 'content-type': 'application/json' },
      payload: '{"benefit": "universal-credit", 1977-07-17',
    });
    assert.equal(badJson.statusCode, 400);
    assert.ok(!badJson.body.includes('1977-07-17'), 'a syntax error must not echo the body');
    const text = await service.app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: { ...bearer(service.keys.assessor), 'content-type': 'text/plain' },
      payload: 'hello',
    });
    assert.ok([400, 415].includes(text.statusCode), String(text.statusCode));
    const large = await service.app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: { ...bearer(service.keys.assessor), 'content-type': 'application/json' },
      payload: JSON.stringify({ pad: 'x'.repeat(100_000) }),
    });
    assert.equal(large.statusCode, 413);
    assert.equal(large.json<{ code: string }>().code, 'ENTITLE_BODY_TOO_LARGE');
  });

  it('answers 422 when a rate the decision needs is unconfirmed, and records nothing', async () => {
    const before = (await verifyRecord(service.db)).verified;
    const response = await assess({ ...canaryInput, assessmentDate: '2026-06-01' });
    assert.equal(response.statusCode, 422);
    assert.equal(response.json<{ code: string }>().code, 'ENTITLE_PARAMETER_UNCONFIRMED');
    assert.equal((await verifyRecord(service.db)).verified, before);
  });

  it('answers 404 for an unknown decision or address, and 400 for an id that is not a UUID', async () => {
    assert.equal(
      (
        await service.app.inject({
          url: '/v1/decisions/01a200bd-b44a-713a-a393-827e74284135',
          headers: bearer(service.keys.caseworker),
        })
      ).statusCode,
      404,
    );
    const notUuid = await service.app.inject({ url: '/v1/decisions/123', headers: bearer(service.keys.caseworker) });
    assert.equal(notUuid.statusCode, 400);
    assert.equal(notUuid.json<{ code: string }>().code, 'ENTITLE_REQUEST_INVALID');
    assert.equal((await service.app.inject({ url: '/nowhere' })).statusCode, 404);
  });

  it('sends security headers', async () => {
    const response = await service.app.inject({ url: '/health' });
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.ok(response.headers['strict-transport-security']);
    assert.ok(response.headers['content-security-policy']);
  });

  it('reports health, readiness, metrics and the OpenAPI document', async () => {
    assert.deepEqual((await service.app.inject({ url: '/health' })).json(), { status: 'alive' });
    const ready = await service.app.inject({ url: '/ready' });
    assert.equal(ready.statusCode, 200, ready.body);
    const metrics = (await service.app.inject({ url: '/metrics' })).body;
    assert.match(
      metrics,
      /entitle_assessments_total\{benefit="universal-credit",outcome="entitled",ruleset="sha256:[0-9a-f]+"\} \d+/,
    );
    assert.match(metrics, /entitle_http_request_duration_seconds_bucket\{.*route="\/v1\/assessments".*status="201"/);
    assert.match(metrics, /entitle_decision_write_seconds_count \d+/);
    assert.match(metrics, /entitle_db_pool_connections\{state="total"\}/);
    assert.match(metrics, /process_cpu_user_seconds_total/);
    const openapi = (await service.app.inject({ url: '/openapi.json' })).json<{
      openapi: string;
      paths: Record<string, unknown>;
      components: {
        schemas: Record<string, { properties?: { household?: { properties?: Record<string, unknown> } } }>;
      };
    }>();
    assert.equal(openapi.openapi, '3.1.0');
    assert.ok(openapi.paths['/v1/assessments'] && openapi.paths['/v1/decisions/{id}/replay']);
    assert.ok(
      openapi.components.schemas['Assessment_uk-universal-credit']?.properties?.household?.properties
        ?.monthlyChildcareCosts,
    );
    // Every route of the API is in the document, with the method it answers: the command line and
    // integrators need nothing that is not described there.
    const paths = openapi.paths as Record<string, Record<string, unknown>>;
    const undocumented = routesOf(service.app)
      .filter((r) => r.url.startsWith('/v1/'))
      .map((r) => `${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`)
      .filter((route) => {
        const [method, path] = route.split(' ') as [string, string];
        return !paths[path]?.[method.toLowerCase()];
      });
    assert.deepEqual(undocumented, [], 'routes missing from /openapi.json');
  });
});

/**
 * Runs `check` against a second app over the same database, with one of its methods made to
 * fail as a lost connection does, using the keys of the working service.
 */
async function withBrokenDatabase(
  breaks: 'query' | 'transaction',
  check: (app: TestService['app'], keys: TestService['keys']) => Promise<void>,
): Promise<void> {
  const service = await testService();
  try {
    const broken: Database = { ...service.db, [breaks]: () => Promise.reject(new Error('connection terminated')) };
    const { app } = await assembleApp({
      db: broken,
      rules: service.context.ruleSets,
      flags: service.context.flags,
      logLevel: 'silent',
    });
    try {
      await check(app, service.keys);
    } finally {
      await app.close();
    }
  } finally {
    await service.close();
  }
}

describe('the service when it cannot record', () => {
  it('answers 503 with Retry-After and never a decision it did not store', async () => {
    await withBrokenDatabase('transaction', async (app, keys) => {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/assessments',
        headers: bearer(keys.assessor),
        payload: canaryInput,
      });
      assert.equal(response.statusCode, 503);
      assert.equal(response.headers['retry-after'], '2');
      const problem = response.json<{ code: string; outcome?: unknown }>();
      assert.equal(problem.code, 'ENTITLE_STORE_UNAVAILABLE');
      assert.equal(problem.outcome, undefined);
    });
  });

  it('answers 503 with Retry-After, not 500, when a key cannot be checked', async () => {
    await withBrokenDatabase('query', async (app, keys) => {
      const response = await app.inject({
        url: '/v1/decisions/01a200bd-b44a-713a-a393-827e74284135',
        headers: bearer(keys.caseworker),
      });
      assert.equal(response.statusCode, 503);
      assert.equal(response.headers['retry-after'], '2');
    });
  });

  it('throttles an address that keeps sending keys that are not valid', async () => {
    const service = await testService();
    try {
      // At once, as a flood would come: misses share one read of the keys, a second apart.
      const statuses = (
        await Promise.all(
          Array.from({ length: 62 }, (_, i) =>
            service.app.inject({
              url: '/v1/decisions/01a200bd-b44a-713a-a393-827e74284135',
              headers: bearer(`ent_guess${i}`),
            }),
          ),
        )
      )
        .map((r) => r.statusCode)
        .sort();
      assert.deepEqual(statuses, [...Array<number>(60).fill(401), 429, 429]);
      const unauthenticated = await service.app.inject({ url: '/v1/decisions/01a200bd-b44a-713a-a393-827e74284135' });
      assert.equal(unauthenticated.headers['x-content-type-options'], 'nosniff', 'security headers on refusals too');
    } finally {
      await service.close();
    }
  });

  it('answers requests while closing with a problem and Retry-After', async () => {
    const service = await testService();
    try {
      service.context.state.closing = true;
      const response = await service.app.inject({
        method: 'POST',
        url: '/v1/assessments',
        headers: bearer(service.keys.assessor),
        payload: canaryInput,
      });
      assert.equal(response.statusCode, 503);
      assert.equal(response.headers['retry-after'], '2');
      assert.equal(response.json<{ code: string }>().code, 'ENTITLE_SHUTTING_DOWN');
    } finally {
      service.context.state.closing = false;
      await service.close();
    }
  });

  it('turns /ready to 503 as soon as shutdown begins', async () => {
    const service = await testService();
    try {
      service.context.state.shuttingDown = true;
      const ready = await service.app.inject({ url: '/ready' });
      assert.equal(ready.statusCode, 503);
      assert.equal(ready.headers['retry-after'], '2');
      assert.equal(ready.json<{ checks: { shutdown: boolean } }>().checks.shutdown, false);
    } finally {
      await service.close();
    }
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After once a key passes its limit', async () => {
    const service = await testService({ rateLimits: { caseworker: 3 } });
    try {
      const get = () =>
        service.app.inject({
          url: '/v1/decisions/01a200bd-b44a-713a-a393-827e74284135',
          headers: bearer(service.keys.caseworker),
        });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await get()).statusCode);
      assert.deepEqual(statuses, [404, 404, 404, 429, 429]);
      const limited = await get();
      assert.ok(Number(limited.headers['retry-after']) > 0);
      assert.equal(limited.json<{ code: string }>().code, 'ENTITLE_RATE_LIMITED');
    } finally {
      await service.close();
    }
  });
});
