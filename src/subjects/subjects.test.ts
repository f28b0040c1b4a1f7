import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SHARED_HOUSEHOLD as household, testService, type TestService } from '../testing/index.ts';
import type { SubjectExport } from './index.ts';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe("a data subject's rights over one application", () => {
  let service: TestService;
  let decisionIds: string[];
  before(async () => {
    service = await testService();
    const made = await service.app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: bearer(service.keys.assessor),
      payload: {
        benefits: ['universal-credit', 'child-benefit'],
        applicationId: 'SAR-1',
        assessmentDate: '2025-06-01',
        household,
      },
    });
    assert.equal(made.statusCode, 201, made.body);
    decisionIds = made.json<{ decisions: { decisionId: string }[] }>().decisions.map((d) => d.decisionId);
    const other = await service.app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: bearer(service.keys.assessor),
      payload: { benefit: 'child-benefit', applicationId: 'OTHER-1', assessmentDate: '2025-06-01', household },
    });
    assert.equal(other.statusCode, 201);
    await service.db.query(
      "INSERT INTO assessment_failures (at, benefit, application_id, code) VALUES ('2026-01-01T00:00:00Z', 'universal-credit', 'SAR-1', 'ENTITLE_STORE_UNAVAILABLE')",
    );
    // A caseworker reads one of the decisions: the export must show it.
    const read = await service.app.inject({
      url: `/v1/decisions/${decisionIds[0]}`,
      headers: bearer(service.keys.caseworker),
    });
    assert.equal(read.statusCode, 200);
  });
  after(() => service.close());

  const exportOf = (application: string, key = service.keys.auditor) =>
    service.app.inject({ url: `/v1/subjects?application=${encodeURIComponent(application)}`, headers: bearer(key) });

  it('exports everything held about the application, and records the access', async () => {
    const response = await exportOf('SAR-1');
    assert.equal(response.statusCode, 200, response.body);
    const held = response.json<SubjectExport>();
    assert.deepEqual(held.decisions.map((d) => d.benefit).sort(), ['child-benefit', 'universal-credit']);
    assert.ok(held.decisions.every((d) => d.inputs !== null && d.inputsRemovedAt === null));
    assert.deepEqual(
      held.decisions.find((d) => d.decisionId === decisionIds[0])!.reads.map((r) => `${r.keyName} ${r.action}`),
      ['test-caseworker read'],
    );
    assert.deepEqual(held.failedAssessments, [
      { at: '2026-01-01T00:00:00Z', benefit: 'universal-credit', code: 'ENTITLE_STORE_UNAVAILABLE' },
    ]);
    // The access is itself recorded: a read of each decision, and an audit event that names the
    // application only by a digest.
    const again = (await exportOf('SAR-1')).json<SubjectExport>();
    assert.ok(again.decisions.every((d) => d.reads.some((r) => r.action === 'subject-export')));
    const { rows } = await service.db.query<{ subject: string; text: string }>(
      "SELECT subject, evidence::text AS text FROM audit_events WHERE action = 'subject.exported'",
    );
    assert.equal(rows.length, 2);
    assert.match(rows[0]!.subject, /^application sha256:[0-9a-f]{16}$/);
    assert.ok(!rows.some((r) => `${r.subject}${r.text}`.includes('SAR-1')));
    assert.equal((await exportOf('SAR-1', service.keys.caseworker)).statusCode, 403);
    const bad = await exportOf('');
    assert.equal(bad.statusCode, 400);
  });

  it('erases the personal inputs with a reason, keeps the decisions verifiable, and touches no other application', async () => {
    const erase = (payload: object, key = service.keys.admin) =>
      service.app.inject({ method: 'POST', url: '/v1/subjects/erase', headers: bearer(key), payload });
    const noReason = await erase({ application: 'SAR-1' });
    assert.equal(noReason.statusCode, 400);
    assert.match(noReason.body, /reason/);
    assert.equal((await erase({ application: 'SAR-1', reason: 'x' }, service.keys.auditor)).statusCode, 403);

    const erased = await erase({ application: 'SAR-1', reason: 'erasure request 2026-118' });
    assert.equal(erased.statusCode, 200, erased.body);
    assert.deepEqual(
      [erased.json<{ decisions: number }>().decisions, erased.json<{ failedAssessments: number }>().failedAssessments],
      [2, 1],
    );
    const held = (await exportOf('SAR-1')).json<SubjectExport>();
    assert.ok(held.decisions.every((d) => d.inputs === null && d.inputsRemovedAt !== null));
    assert.deepEqual(held.failedAssessments, []);
    // Each decision still reads back, checked against the verifiable log; it can no longer be replayed.
    for (const id of decisionIds) {
      const read = await service.app.inject({ url: `/v1/decisions/${id}`, headers: bearer(service.keys.caseworker) });
      assert.equal(read.statusCode, 200, read.body);
      const replay = await service.app.inject({
        method: 'POST',
        url: `/v1/decisions/${id}/replay`,
        headers: bearer(service.keys.auditor),
      });
      assert.equal(replay.statusCode, 410);
    }
    const other = (await exportOf('OTHER-1')).json<SubjectExport>();
    assert.ok(other.decisions[0]!.inputs !== null, 'another application keeps its inputs');
    const { rows } = await service.db.query<{ reason: string }>(
      "SELECT reason FROM audit_events WHERE action = 'subject.erased'",
    );
    assert.deepEqual(
      rows.map((r) => r.reason),
      ['erasure request 2026-118'],
    );
  });
});
