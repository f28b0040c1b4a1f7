import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CAPACITY } from '../capacity/index.ts';
import { requestFlagChange } from '../flags/index.ts';
import { assembleApp } from '../service/index.ts';
import { canaryInput, TEST_LOG, testDatabases, testService } from '../testing/index.ts';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

function application(n: number) {
  return { ...canaryInput, applicationId: `IDEM-${n}` };
}

async function decisionsFor(
  db: { query: (sql: string, params: unknown[]) => Promise<{ rows: { n: string }[] }> },
  applicationId: string,
): Promise<number> {
  const { rows } = await db.query('SELECT count(*) AS n FROM decisions WHERE application_id = $1', [applicationId]);
  return Number(rows[0]!.n);
}

describe('Idempotency-Key on assessments', () => {
  it('answers retries with the original decision and records it once, under concurrency too', async () => {
    const service = await testService();
    try {
      const headers = { ...bearer(service.keys.assessor), 'idempotency-key': 'submission-7f3a' };
      const responses = await Promise.all(
        Array.from({ length: 20 }, () =>
          service.app.inject({ method: 'POST', url: '/v1/assessments', headers, payload: application(1) }),
        ),
      );
      assert.deepEqual([...new Set(responses.map((r) => r.statusCode))], [201]);
      const ids = new Set(responses.map((r) => r.json<{ decisionId: string }>().decisionId));
      assert.equal(ids.size, 1, 'every retry got the same decision');
      assert.equal(responses.filter((r) => r.headers['idempotent-replayed'] === 'true').length, 19);
      assert.deepEqual(
        responses[0]!.json<{ outcome: unknown }>().outcome,
        responses[19]!.json<{ outcome: unknown }>().outcome,
      );
      const later = await service.app.inject({
        method: 'POST',
        url: '/v1/assessments',
        headers,
        payload: application(1),
      });
      assert.equal(later.json<{ decisionId: string }>().decisionId, [...ids][0]);
      assert.equal(await decisionsFor(service.db, 'IDEM-1'), 1);
      // Without a key, each submission is a decision of its own, as before.
      await service.app.inject({
        method: 'POST',
        url: '/v1/assessments',
        headers: bearer(service.keys.assessor),
        payload: application(2),
      });
      await service.app.inject({
        method: 'POST',
        url: '/v1/assessments',
        headers: bearer(service.keys.assessor),
        payload: application(2),
      });
      assert.equal(await decisionsFor(service.db, 'IDEM-2'), 2);
    } finally {
      await service.close();
    }
  });

  it('records one decision when two instances on one PostgreSQL database get the same key at once', async () => {
    const t = await testDatabases.postgres();
    const first = await testService({}, t.db);
    // The same log key as the first instance, as every instance of a deployment has.
    const second = await assembleApp({ db: t.db, rules: first.context.ruleSets, logLevel: 'silent', log: TEST_LOG });
    try {
      for (let round = 0; round < 5; round++) {
        const headers = { ...bearer(first.keys.assessor), 'idempotency-key': `two-instances-${round}` };
        const responses = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            (i % 2 === 0 ? first.app : second.app).inject({
              method: 'POST',
              url: '/v1/assessments',
              headers,
              payload: application(100 + round),
            }),
          ),
        );
        assert.deepEqual([...new Set(responses.map((r) => r.statusCode))], [201]);
        assert.equal(new Set(responses.map((r) => r.json<{ decisionId: string }>().decisionId)).size, 1);
        assert.equal(await decisionsFor(t.db, `IDEM-${100 + round}`), 1);
      }
    } finally {
      await second.app.close();
      await first.app.close();
      await t.drop();
    }
  });

  it('refuses a key sent with a different request, and a key that is not valid, naming the header', async () => {
    const service = await testService();
    try {
      const headers = { ...bearer(service.keys.assessor), 'idempotency-key': 'submission-1' };
      assert.equal(
        (await service.app.inject({ method: 'POST', url: '/v1/assessments', headers, payload: application(3) }))
          .statusCode,
        201,
      );
      const changed = await service.app.inject({
        method: 'POST',
        url: '/v1/assessments',
        headers,
        payload: application(4),
      });
      assert.equal(changed.statusCode, 422);
      assert.equal(changed.json<{ code: string }>().code, 'ENTITLE_IDEMPOTENCY_KEY_REUSED');
      const bad = await service.app.inject({
        method: 'POST',
        url: '/v1/assessments',
        headers: { ...bearer(service.keys.assessor), 'idempotency-key': 'has space' },
        payload: application(5),
      });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json<{ errors: { field: string }[] }>().errors[0]!.field, 'Idempotency-Key');
      assert.equal(await decisionsFor(service.db, 'IDEM-4'), 0);
      assert.equal(await decisionsFor(service.db, 'IDEM-5'), 0);
    } finally {
      await service.close();
    }
  });
});

describe('admission control over HTTP', () => {
  it('answers 503 with Retry-After at once when the queue is full, and loses nothing it accepted', async () => {
    const service = await testService({
      capacity: {
        ...DEFAULT_CAPACITY,
        admission: { maxConcurrent: 2, queueLimit: 3, maxWaitMs: 5_000, citizenReserved: 0 },
      },
    });
    try {
      const responses = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          service.app.inject({
            method: 'POST',
            url: '/v1/assessments',
            headers: bearer(service.keys.assessor),
            payload: application(1_000 + i),
          }),
        ),
      );
      const accepted = responses.filter((r) => r.statusCode === 201);
      const refused = responses.filter((r) => r.statusCode === 503);
      assert.equal(
        accepted.length + refused.length,
        40,
        `only 201 and 503: ${responses.map((r) => r.statusCode).join(',')}`,
      );
      assert.ok(refused.length > 0, 'some were refused');
      assert.ok(accepted.length >= 5, `the admitted and queued ones were all decided (${accepted.length})`);
      for (const r of refused) {
        assert.equal(r.headers['retry-after'], '2');
        assert.equal(r.json<{ code: string }>().code, 'ENTITLE_OVERLOADED');
      }
      // Every accepted decision is recorded, and nothing for a refused one.
      for (const r of accepted)
        assert.equal(await decisionsFor(service.db, r.json<{ applicationId: string }>().applicationId), 1);
      for (const r of refused) {
        const index = responses.indexOf(r);
        assert.equal(await decisionsFor(service.db, `IDEM-${1_000 + index}`), 0);
      }
      const metrics = (await service.app.inject({ url: '/metrics' })).body;
      assert.match(
        metrics,
        new RegExp(`entitle_admission_rejected_total\\{priority="citizen",reason="queue_full"\\} ${refused.length}`),
      );
      assert.equal(service.context.capacity.admission.inFlight, 0, 'every place was given back');
    } finally {
      await service.close();
    }
  });

  it('reads Entitle-Priority, refusing a value it does not know with the header named', async () => {
    const service = await testService();
    try {
      const batch = await service.app.inject({
        method: 'POST',
        url: '/v1/assessments',
        headers: { ...bearer(service.keys.assessor), 'entitle-priority': 'batch' },
        payload: application(2_000),
      });
      assert.equal(batch.statusCode, 201);
      const bad = await service.app.inject({
        method: 'POST',
        url: '/v1/assessments',
        headers: { ...bearer(service.keys.assessor), 'entitle-priority': 'urgent' },
        payload: application(2_001),
      });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json<{ errors: { field: string }[] }>().errors[0]!.field, 'Entitle-Priority');
    } finally {
      await service.close();
    }
  });
});

describe('explanation traces behind a flag', () => {
  it('answers ?explain=trace with the trace for applications rolled out to, and the reasons only for others', async () => {
    const service = await testService();
    try {
      const traced = await service.app.inject({
        method: 'POST',
        url: '/v1/assessments?explain=trace',
        headers: bearer(service.keys.assessor),
        payload: application(3_000),
      });
      assert.equal(traced.statusCode, 201);
      assert.ok(traced.json<{ trace?: unknown }>().trace, 'on for every application by default');
      await requestFlagChange(service.db, {
        key: 'explanation-traces',
        settings: { rolloutBasisPoints: 0 },
        actor: 'dev-a',
        reason: 'test',
      });
      await service.context.flags.sync();
      const plain = await service.app.inject({
        method: 'POST',
        url: '/v1/assessments?explain=trace',
        headers: bearer(service.keys.assessor),
        payload: application(3_001),
      });
      assert.equal(plain.statusCode, 201);
      const body = plain.json<{ trace?: unknown; traceOmitted?: string; explanation: string[] }>();
      assert.equal(body.trace, undefined);
      assert.match(body.traceOmitted!, /explanation-traces/);
      assert.ok(body.explanation.length > 0, 'the citizen-readable reasons are always there');
    } finally {
      await service.close();
    }
  });
});
