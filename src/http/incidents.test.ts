import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Incident, IncidentEntry } from '../incidents/index.ts';
import { alertGroup, testService } from '../testing/index.ts';

interface Problem {
  readonly code: string;
  readonly errors: readonly { field: string; message: string }[];
}

describe('incidents API', () => {
  it('declares, updates, assigns and resolves incidents with the operator role; explains bad input by field; serves timeline, comms and review', async () => {
    const service = await testService();
    const as = (role: keyof typeof service.keys) => ({ authorization: `Bearer ${service.keys[role]}` });
    try {
      const refused = await service.app.inject({
        method: 'POST',
        url: '/v1/incidents',
        headers: as('assessor'),
        payload: { title: 'x', priority: 'P1' },
      });
      assert.equal(refused.statusCode, 403);
      const bad = await service.app.inject({
        method: 'POST',
        url: '/v1/incidents',
        headers: as('operator'),
        payload: { title: 'Down', priority: 'P7' },
      });
      assert.equal(bad.statusCode, 400);
      assert.deepEqual(bad.json<Problem>().errors[0], { field: 'priority', message: 'give one of: P1, P2, P3, P4' });

      const created = await service.app.inject({
        method: 'POST',
        url: '/v1/incidents',
        headers: as('operator'),
        payload: {
          title: 'Universal Credit assessments failing',
          priority: 'P1',
          citizenMessage: 'You may not be able to get a decision at the moment.',
          benefits: ['universal-credit'],
          lead: 'Asha',
        },
      });
      assert.equal(created.statusCode, 201);
      const { incident } = created.json<{ incident: Incident }>();
      assert.equal(created.headers.location, `/v1/incidents/${incident.id}`);
      assert.equal(incident.declaredBy, 'test-operator', 'the key name is the actor');
      assert.equal(incident.citizenMessage, 'You may not be able to get a decision at the moment.');

      const badStep = await service.app.inject({
        method: 'POST',
        url: `/v1/incidents/${incident.id}/updates`,
        headers: as('operator'),
        payload: { status: 'reviewed' },
      });
      assert.equal(badStep.statusCode, 409);
      assert.equal(badStep.json<Problem>().code, 'ENTITLE_INCIDENT_TRANSITION_INVALID');
      const assigned = await service.app.inject({
        method: 'POST',
        url: `/v1/incidents/${incident.id}/roles`,
        headers: as('operator'),
        payload: { role: 'communications-lead', person: 'Ben' },
      });
      assert.equal(assigned.statusCode, 200);
      assert.equal(
        (
          await service.app.inject({
            method: 'POST',
            url: `/v1/incidents/${incident.id}/acknowledge`,
            headers: as('operator'),
          })
        ).statusCode,
        200,
      );
      const resolved = await service.app.inject({
        method: 'POST',
        url: `/v1/incidents/${incident.id}/updates`,
        headers: as('operator'),
        payload: { status: 'resolved', text: 'Fixed and verified' },
      });
      assert.equal(resolved.json<{ incident: Incident }>().incident.status, 'resolved');
      assert.match(
        resolved.json<{ incident: Incident }>().incident.citizenMessage!,
        /has been fixed/,
        'the status page says it is fixed, in the same step',
      );

      const shown = await service.app.inject({
        method: 'GET',
        url: `/v1/incidents/${incident.id}`,
        headers: as('auditor'),
      });
      assert.deepEqual(
        shown.json<{ entries: IncidentEntry[] }>().entries.map((e) => e.kind),
        ['declared', 'assigned', 'citizen-message', 'assigned', 'acknowledged', 'status', 'citizen-message', 'update'],
      );
      const timeline = await service.app.inject({
        method: 'GET',
        url: `/v1/incidents/${incident.id}/timeline?format=markdown`,
        headers: as('operator'),
      });
      assert.match(timeline.headers['content-type'] as string, /text\/markdown/);
      assert.match(timeline.body, /Fixed and verified/);
      const comms = await service.app.inject({
        method: 'GET',
        url: `/v1/incidents/${incident.id}/comms?audience=citizens`,
        headers: as('operator'),
      });
      assert.equal(comms.json<{ audience: string }>().audience, 'resolution');
      const review = await service.app.inject({
        method: 'GET',
        url: `/v1/incidents/${incident.id}/review`,
        headers: as('operator'),
      });
      assert.match(review.body, /^# Post-incident review: INC-1/);
      const nul = await service.app.inject({
        method: 'POST',
        url: '/v1/incidents',
        headers: as('operator'),
        payload: { title: 'Down\u0000', priority: 'P2' },
      });
      assert.equal(nul.statusCode, 400, "a character the database refuses is the caller's to fix, not a 500");
      assert.equal(nul.json<Problem>().errors[0]!.field, 'title');
      assert.equal(
        (
          await service.app.inject({
            method: 'GET',
            url: '/v1/incidents/%00/comms?audience=citizens',
            headers: as('operator'),
          })
        ).statusCode,
        400,
      );
      const missing = await service.app.inject({
        method: 'GET',
        url: '/v1/incidents/INC-404',
        headers: as('operator'),
      });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json<Problem>().code, 'ENTITLE_INCIDENT_NOT_FOUND');
    } finally {
      await service.close();
    }
  });

  it('takes Alertmanager webhooks only with a key, opens an incident per group and answers bad payloads with the field', async () => {
    const service = await testService();
    try {
      const payload = alertGroup('EntitleDecisionChainBroken', {
        priority: 'P1',
        summary: 'The decision chain does not verify',
        fingerprint: 'abc',
      });
      assert.equal(
        (await service.app.inject({ method: 'POST', url: '/v1/alerts/alertmanager', payload })).statusCode,
        401,
      );
      assert.equal(
        (
          await service.app.inject({
            method: 'POST',
            url: '/v1/alerts/alertmanager',
            headers: { authorization: `Bearer ${service.keys.assessor}` },
            payload,
          })
        ).statusCode,
        403,
      );
      const headers = { authorization: `Bearer ${service.keys.alertmanager}` };
      const first = await service.app.inject({ method: 'POST', url: '/v1/alerts/alertmanager', headers, payload });
      assert.equal(first.statusCode, 200);
      assert.deepEqual(first.json(), { incident: 'INC-1', created: true, added: 1 });
      assert.deepEqual(
        (await service.app.inject({ method: 'POST', url: '/v1/alerts/alertmanager', headers, payload })).json(),
        { incident: 'INC-1', created: false, added: 0 },
      );
      const bad = await service.app.inject({
        method: 'POST',
        url: '/v1/alerts/alertmanager',
        headers,
        payload: { ...payload, alerts: [{ status: 'burning' }] },
      });
      assert.equal(bad.statusCode, 400);
      assert.ok(bad.json<Problem>().errors.length > 0);
      const badTime = await service.app.inject({
        method: 'POST',
        url: '/v1/alerts/alertmanager',
        headers,
        payload: {
          ...payload,
          status: 'resolved',
          alerts: [{ ...payload.alerts[0], status: 'resolved', endsAt: 'nope' }],
        },
      });
      assert.equal(badTime.statusCode, 400);
      assert.equal(badTime.json<Problem>().errors[0]!.field, 'alerts.0.endsAt');
      // Text the database cannot store is refused whole, naming the field: nothing is recorded.
      const nul = await service.app.inject({
        method: 'POST',
        url: '/v1/alerts/alertmanager',
        headers,
        payload: {
          status: 'firing',
          groupKey: 'nul',
          alerts: [{ status: 'firing', labels: { alertname: 'X\u0000' }, startsAt: new Date().toISOString() }],
        },
      });
      assert.equal(nul.statusCode, 400);
      assert.equal(nul.json<Problem>().errors[0]!.field, 'alerts[0].labels.alertname');
      // Alertmanager leaves out what is empty: an alert with no annotations is still recorded.
      const bare = await service.app.inject({
        method: 'POST',
        url: '/v1/alerts/alertmanager',
        headers,
        payload: {
          status: 'firing',
          groupKey: 'bare',
          alerts: [{ status: 'firing', labels: { alertname: 'X' }, startsAt: new Date().toISOString() }],
        },
      });
      assert.equal(bare.statusCode, 200);
      assert.equal(bare.json<{ created: boolean }>().created, true);
      // The alertmanager key can do nothing else.
      assert.equal((await service.app.inject({ method: 'GET', url: '/v1/incidents', headers })).statusCode, 403);
    } finally {
      await service.close();
    }
  });
});
