import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appendAuditEvent, auditEventsFor, verifyAuditChain } from '../audit/index.ts';
import {
  buildTimeline,
  fillTemplate,
  incidentImpact,
  reviewMarkdown,
  timelineMarkdown,
} from '../incident-reports/index.ts';
import { loadEscalationPolicy } from '../notify/index.ts';
import { openPglite, withFaults } from '../store/index.ts';
import { household, testDatabases, testService } from '../testing/index.ts';
import { isWorkingDay, workingDaysAfter } from '../uk-time/index.ts';
import {
  acknowledgeIncident,
  assignRole,
  declareIncident,
  getIncident,
  incidentEntries,
  listIncidents,
  overdue,
  PRIORITIES,
  PRIORITY_DEFINITIONS,
  receiveAlertGroup,
  updateIncident,
  type AlertGroup,
  type Incident,
} from './index.ts';

// Alertmanager resends an alert with the same fingerprint and start.
const startsAt = new Date(Date.now() - 120_000).toISOString();

function alertGroup(status: 'firing' | 'resolved', overrides: Partial<AlertGroup> = {}): AlertGroup {
  return {
    status,
    groupKey: '{}/{severity="page"}:{alertname="EntitleAssessmentAvailabilityBudgetBurn"}',
    groupLabels: { alertname: 'EntitleAssessmentAvailabilityBudgetBurn' },
    commonLabels: {
      alertname: 'EntitleAssessmentAvailabilityBudgetBurn',
      priority: 'P1',
      slo: 'assessment_availability',
      severity: 'page',
    },
    commonAnnotations: {
      summary: 'Citizens cannot get assessments',
      runbook_url: 'docs/runbooks/EntitleAssessmentAvailabilityBudgetBurn.md',
    },
    alerts: [
      {
        status,
        labels: {
          alertname: 'EntitleAssessmentAvailabilityBudgetBurn',
          priority: 'P1',
          slo: 'assessment_availability',
          tier: 'page-fast',
        },
        annotations: { summary: 'Citizens cannot get assessments' },
        startsAt,
        ...(status === 'resolved' ? { endsAt: new Date().toISOString() } : {}),
        fingerprint: 'a1b2c3d4e5f60718',
      },
    ],
    ...overrides,
  };
}

describe('incidents', () => {
  it('follows the process: declared, assigned, updated, resolved with a review due in 5 working days, reviewed; invalid transitions refused; every change audited', async () => {
    const db = await openPglite(undefined);
    const { migrate } = await import('../store/index.ts');
    await migrate(db);
    try {
      const { incident, created } = await declareIncident(db, {
        title: 'Citizens cannot get decisions',
        priority: 'p1',
        actor: 'asha',
        lead: 'Asha',
        journeys: ['assessment_availability'],
      });
      assert.equal(created, true);
      assert.equal(incident.id, 'INC-1');
      assert.equal(incident.status, 'investigating');
      await assignRole(db, '1', { role: 'communications-lead', person: 'Ben', actor: 'asha' });
      await assignRole(db, 'inc-1', { role: 'incident-lead', person: 'Chen', actor: 'asha' });
      await assert.rejects(updateIncident(db, 'INC-1', { actor: 'asha', status: 'reviewed' }), {
        code: 'ENTITLE_INCIDENT_TRANSITION_INVALID',
      });
      await assert.rejects(
        updateIncident(db, 'INC-1', { actor: 'asha', status: 'resolved' }),
        (error: { code: string; problems: { field: string }[] }) =>
          error.code === 'ENTITLE_INPUT_INVALID' && error.problems[0]!.field === 'text',
      );
      await assert.rejects(
        updateIncident(db, 'INC-1', { actor: 'asha', status: 'fixed' }),
        (error: { problems: { field: string; message: string }[] }) =>
          error.problems[0]!.field === 'status' && error.problems[0]!.message.includes('investigating'),
      );
      await assert.rejects(
        declareIncident(db, { title: '', priority: 'P9', actor: 'asha', journeys: ['nope'] }),
        (error: { problems: { field: string }[] }) =>
          ['title', 'priority', 'journeys'].every((f) => error.problems.some((p) => p.field === f)),
      );
      await assert.rejects(getIncident(db, 'INC-99'), { code: 'ENTITLE_INCIDENT_NOT_FOUND' });
      await updateIncident(db, 'INC-1', {
        actor: 'chen',
        status: 'identified',
        text: 'The database is refusing connections',
      });
      const resolved = await updateIncident(db, 'INC-1', {
        actor: 'chen',
        status: 'resolved',
        text: 'Restarted; assessments succeed',
      });
      assert.ok(resolved.resolvedAt && resolved.reviewDueAt && resolved.reviewDueAt > resolved.resolvedAt);
      await assert.rejects(updateIncident(db, 'INC-1', { actor: 'chen', status: 'investigating' }), {
        code: 'ENTITLE_INCIDENT_TRANSITION_INVALID',
      });
      const reviewed = await updateIncident(db, 'INC-1', { actor: 'chen', status: 'reviewed', text: 'Review held' });
      assert.equal(reviewed.status, 'reviewed');
      await assert.rejects(updateIncident(db, 'INC-1', { actor: 'chen', text: 'more' }), {
        code: 'ENTITLE_INCIDENT_TRANSITION_INVALID',
      });
      await assert.rejects(
        updateIncident(db, 'INC-1', { actor: 'chen', status: 'reviewed', priority: 'P4', citizenMessage: 'changed' }),
        { code: 'ENTITLE_INCIDENT_TRANSITION_INVALID' },
        'a reviewed incident stays as the review saw it',
      );
      await assert.rejects(assignRole(db, 'INC-1', { role: 'responder', person: 'Dee', actor: 'chen' }), {
        code: 'ENTITLE_INCIDENT_TRANSITION_INVALID',
      });
      await assert.rejects(
        declareIncident(db, { title: 'a\u0000b', priority: 'P2', actor: 'a', lead: '   ' }),
        (error: { problems: { field: string }[] }) =>
          ['title', 'lead'].every((f) => error.problems.some((p) => p.field === f)),
      );

      const lead = reviewed.roles.filter((r) => r.role === 'incident-lead');
      assert.deepEqual(
        lead.map((r) => r.person),
        ['Chen'],
        'one incident lead at a time',
      );
      const kinds = (await incidentEntries(db, 'INC-1')).map((e) => e.kind);
      assert.deepEqual(kinds, [
        'declared',
        'assigned',
        'assigned',
        'assigned',
        'status',
        'update',
        'status',
        'update',
        'status',
        'update',
      ]);
      const actions = (await auditEventsFor(db, 'INC-1')).map((e) => e.action);
      assert.deepEqual(actions, [
        'incident.declared',
        'incident.assigned',
        'incident.assigned',
        'incident.updated',
        'incident.resolved',
        'incident.reviewed',
      ]);
      assert.equal((await verifyAuditChain(db)).ok, true);
    } finally {
      await db.close();
    }
  });

  it('knows England and Wales working days, and what is overdue by priority', () => {
    assert.equal(isWorkingDay('2026-12-25'), false);
    assert.equal(isWorkingDay('2026-12-28'), false, 'Boxing Day 2026 is a Saturday: the substitute is Monday 28th');
    assert.equal(isWorkingDay('2026-04-03'), false, 'Good Friday 2026');
    assert.equal(isWorkingDay('2026-04-06'), false, 'Easter Monday 2026');
    assert.equal(isWorkingDay('2027-03-26'), false, 'Good Friday 2027');
    assert.equal(isWorkingDay('2026-11-23'), true);
    // Resolved on Wednesday 23 December 2026: 24th, 29th, 30th, 31st, 4 January (1st is a holiday).
    assert.equal(workingDaysAfter('2026-12-23T10:00:00Z', 5), '2027-01-04T23:59:00.000Z');
    // British Summer Time: the end of the day in UK time is 22:59 UTC.
    assert.equal(workingDaysAfter('2026-06-01T10:00:00Z', 5), '2026-06-08T22:59:00.000Z');

    const base: Incident = {
      id: 'INC-1',
      title: 't',
      priority: 'P1',
      status: 'investigating',
      citizenMessage: null,
      benefits: [],
      journeys: [],
      roles: [],
      source: 'manual',
      releaseIds: [],
      runbook: null,
      startedAt: '2026-11-22T03:00:00Z',
      declaredAt: '2026-11-22T03:00:00Z',
      declaredBy: 'a',
      acknowledgedAt: null,
      acknowledgedBy: null,
      lastUpdateAt: '2026-11-22T03:00:00Z',
      resolvedAt: null,
      reviewedAt: null,
      reviewDueAt: null,
    };
    assert.deepEqual(overdue(base, new Date('2026-11-22T03:59:00Z')), {
      update: false,
      acknowledgement: true,
      review: false,
    });
    assert.deepEqual(overdue(base, new Date('2026-11-22T04:01:00Z')), {
      update: true,
      acknowledgement: true,
      review: false,
    });
    assert.equal(
      overdue({ ...base, priority: 'P2' }, new Date('2026-11-22T04:59:00Z')).update,
      false,
      'P2 updates every 2 hours',
    );
    assert.equal(overdue({ ...base, priority: 'P2' }, new Date('2026-11-22T05:01:00Z')).update, true);
    assert.equal(
      overdue({ ...base, priority: 'P3' }, new Date('2026-11-23T05:01:00Z')).update,
      false,
      'P3 has no regular updates',
    );
    assert.equal(
      overdue(
        { ...base, status: 'resolved', resolvedAt: '2026-11-22T04:00:00Z', reviewDueAt: '2026-11-27T23:59:00Z' },
        new Date('2026-11-28T00:00:00Z'),
      ).review,
      true,
    );
  });

  for (const kind of ['pglite', 'postgres'] as const) {
    it(`opens one incident per alert group on ${kind}, adds nothing when Alertmanager resends, raises the priority, and moves to monitoring when the group resolves`, async () => {
      const test = await (kind === 'pglite' ? testDatabases.pglite() : testDatabases.postgres());
      const { db } = test;
      try {
        // Two instances receive the same notification at once: one incident.
        const [a, b] = await Promise.all([
          receiveAlertGroup(db, alertGroup('firing')),
          receiveAlertGroup(db, alertGroup('firing')),
        ]);
        assert.equal(a.incident!.id, b.incident!.id);
        assert.equal([a.created, b.created].filter(Boolean).length, 1);
        assert.equal(a.added + b.added, 1, 'the alert is recorded once');
        const incident = a.incident!;
        assert.equal(incident.priority, 'P1');
        assert.equal(incident.source, 'alertmanager');
        assert.deepEqual(incident.journeys, ['assessment_availability']);
        assert.equal(incident.runbook, 'docs/runbooks/EntitleAssessmentAvailabilityBudgetBurn.md');
        assert.equal((await receiveAlertGroup(db, alertGroup('firing'))).added, 0, 'a resend adds nothing');
        const resolved = await receiveAlertGroup(db, alertGroup('resolved'));
        assert.equal(resolved.incident!.id, incident.id);
        assert.equal(resolved.incident!.status, 'monitoring');
        // The fix did not hold: the alert fires again, and the incident goes back to investigating.
        const refired = await receiveAlertGroup(db, {
          ...alertGroup('firing'),
          alerts: [{ ...alertGroup('firing').alerts[0]!, startsAt: new Date(Date.now() - 10_000).toISOString() }],
        });
        assert.equal(refired.incident!.id, incident.id);
        assert.equal(refired.incident!.status, 'investigating');
        const { rows: notice } = await db.query<{ pending_notice: string }>(
          'SELECT pending_notice FROM incidents WHERE id = $1',
          [incident.id],
        );
        assert.match(notice[0]!.pending_notice, /fired again/, 'responders will be told');
        assert.equal((await listIncidents(db, { open: true })).length, 1);
        // After a person resolves it, the same group firing again is a new incident.
        await updateIncident(db, incident.id, { actor: 'asha', status: 'resolved', text: 'verified' });
        const stillFiring = await receiveAlertGroup(db, alertGroup('firing'));
        assert.equal(
          stillFiring.incident!.id,
          incident.id,
          'an alert already recorded is not a new incident after resolution',
        );
        assert.equal(stillFiring.incident!.status, 'resolved');
        const again = await receiveAlertGroup(
          db,
          alertGroup('firing', {
            alerts: [{ ...alertGroup('firing').alerts[0]!, startsAt: new Date().toISOString() }],
          }),
        );
        assert.equal(again.created, true);
        assert.notEqual(again.incident!.id, incident.id);
        // A P2 group raised by a P1 alert in it.
        const p2 = await receiveAlertGroup(db, {
          ...alertGroup('firing'),
          groupKey: 'other',
          commonLabels: { alertname: 'X', priority: 'P2' },
          alerts: [
            {
              status: 'firing',
              labels: { alertname: 'X', priority: 'P2' },
              annotations: {},
              startsAt: new Date().toISOString(),
              fingerprint: 'f1',
            },
          ],
        });
        assert.equal(p2.incident!.priority, 'P2');
        const raised = await receiveAlertGroup(db, {
          ...alertGroup('firing'),
          groupKey: 'other',
          alerts: [
            {
              status: 'firing',
              labels: { alertname: 'Y', priority: 'P1' },
              annotations: {},
              startsAt: new Date().toISOString(),
              fingerprint: 'f2',
            },
          ],
        });
        assert.equal(raised.incident!.id, p2.incident!.id);
        assert.equal(raised.incident!.priority, 'P1');
        // A resolved group with no open incident opens nothing.
        assert.equal(
          (await receiveAlertGroup(db, { ...alertGroup('resolved'), groupKey: 'never-fired' })).incident,
          undefined,
        );
        assert.equal((await verifyAuditChain(db)).ok, true);
      } finally {
        await test.drop();
      }
    });
  }

  it('computes citizen impact from the records of a simulated outage: failed assessments, which applications were decided later, whom to recontact; the timeline shows them by minute', async () => {
    const inner = await openPglite(undefined);
    const faults = withFaults(inner);
    const service = await testService({ faults }, faults.db);
    try {
      const assess = (n: number) =>
        service.app.inject({
          method: 'POST',
          url: '/v1/assessments',
          headers: { authorization: `Bearer ${service.keys.assessor}` },
          payload: household(n),
        });
      const declared = await declareIncident(faults.db, {
        title: 'Database unavailable',
        priority: 'P1',
        actor: 'asha',
        benefits: ['universal-credit'],
        startedAt: new Date(Date.now() - 1_000).toISOString(),
      });
      for (const n of [1, 2, 3]) assert.equal((await assess(n)).statusCode, 201);
      faults.setDatabaseDown(true);
      for (const n of [4, 5, 6, 6]) {
        const response = await assess(n);
        assert.equal(response.statusCode, 503);
        assert.equal(response.json<{ code: string }>().code, 'ENTITLE_STORE_UNAVAILABLE');
      }
      assert.equal(service.context.failures.pending, 4, 'kept while the database is down');
      await service.context.failures.flush();
      assert.equal(service.context.failures.pending, 4, 'still kept: the database is still down');
      faults.setDatabaseDown(false);
      await service.context.failures.flush();
      assert.equal(service.context.failures.pending, 0);
      assert.equal((await assess(5)).statusCode, 201, 'one citizen tries again and gets a decision');

      // A deploy recorded in the audit chain during the incident belongs in its timeline.
      await faults.db.transaction((tx) =>
        appendAuditEvent(tx, {
          actor: 'pipeline',
          action: 'deploy.recorded',
          subject: 'production',
          reason: 'version 1.4.2 (commit abc1234), rolling',
          evidence: {},
        }),
      );
      const incident = await updateIncident(faults.db, declared.incident.id, {
        actor: 'asha',
        status: 'resolved',
        text: 'database back',
      });
      const impact = await incidentImpact(faults.db, incident, 'asha');
      assert.deepEqual(impact.assessments, {
        decided: 4,
        failed: 4,
        failedApplications: 3,
        laterDecided: 1,
        stillWithoutDecision: 2,
      });
      assert.deepEqual(
        impact.recontact.map((r) => [r.applicationId, r.failures]),
        [
          ['LIVE-00004', 1],
          ['LIVE-00006', 2],
        ],
      );

      const timeline = await buildTimeline(faults.db, incident);
      const minutes = timeline.items.filter((i) => i.source === 'assessments');
      assert.equal(
        minutes.reduce((s, m) => s + Number(m.data!.decided), 0),
        4,
      );
      assert.equal(
        minutes.reduce((s, m) => s + Number(m.data!.failed), 0),
        4,
      );
      const times = timeline.items.map((i) => i.at);
      assert.deepEqual(times, [...times].sort(), 'sorted by time');
      assert.match(timelineMarkdown(timeline), /\| incident \| database back \| asha \|/);
      assert.match(
        timelineMarkdown(timeline),
        /\| deploy \| deploy\.recorded production: version 1\.4\.2 \(commit abc1234\), rolling \| pipeline \|/,
      );
      const review = reviewMarkdown(incident, await incidentEntries(faults.db, incident.id), impact, timeline);
      assert.match(review, /\| Assessments that failed \(the service's fault\) \| 4 \|/);
      assert.match(review, /\| \.\.\. still without a decision: to recontact \| 2 \|/);
      for (const section of [
        '## Summary',
        '## Timeline',
        '## Root cause',
        '## Contributing factors',
        '## What went well',
        '## What to improve',
        '## Actions',
      ])
        assert.ok(review.includes(section), section);
      assert.ok(!review.includes('1990-01-01'), 'no personal data in the review');
    } finally {
      await service.close();
    }
  });

  it('fills communication templates: citizen texts in plain English with no jargon, promised times or technical detail', () => {
    const base: Incident = {
      id: 'INC-3',
      title: 'Database connection pool exhausted on pod entitle-7',
      priority: 'P1',
      status: 'investigating',
      citizenMessage: null,
      benefits: ['universal-credit', 'child-benefit'],
      journeys: [],
      roles: [{ role: 'incident-lead', person: 'Asha', assignedAt: '2026-11-22T03:00:00Z' }],
      source: 'manual',
      releaseIds: [],
      runbook: null,
      startedAt: '2026-11-22T03:00:00Z',
      declaredAt: '2026-11-22T03:05:00Z',
      declaredBy: 'a',
      acknowledgedAt: null,
      acknowledgedBy: null,
      lastUpdateAt: '2026-11-22T03:05:00Z',
      resolvedAt: null,
      reviewedAt: null,
      reviewDueAt: null,
    };
    const jargon =
      /incident|outage|server|database|pod|P[1-4]\b|SLO|API|latency|deploy|rollback|release|error|alert|INC-|pool|connection|security|breach|hack/i;
    const promise =
      /\b(by|within|until|in the next)\s+\d|\d{1,2}[:.]\d{2}|\bminutes?\b|\bhours?\b|\btoday\b|\btomorrow\b|\bwill be (fixed|back|working)\b/i;
    const variants: Incident[] = [
      base,
      { ...base, priority: 'P2', journeys: ['assessment_latency'] },
      { ...base, journeys: ['decisions_consistent'], releaseIds: ['0190a0a0-0000-7000-8000-000000000000'] },
      { ...base, benefits: [] },
    ];
    for (const incident of variants) {
      const { text, version } = fillTemplate('citizens', incident, [], null);
      assert.equal(version, '1');
      assert.doesNotMatch(text, jargon, text);
      assert.doesNotMatch(text, promise, text);
      for (const sentence of text.split(/(?<=[.!?])\s+/))
        assert.ok(sentence.split(/\s+/).length <= 25, `a short sentence: ${sentence}`);
    }
    assert.match(
      fillTemplate('citizens', base, [], null).text,
      /^You may not be able to get a decision about Universal Credit and Child Benefit at the moment\./,
    );
    const resolved = fillTemplate(
      'citizens',
      { ...base, status: 'resolved', resolvedAt: '2026-11-22T04:00:00Z' },
      [],
      null,
    );
    assert.equal(resolved.audience, 'resolution', 'citizens get the resolution notice once resolved');
    assert.doesNotMatch(resolved.text, jargon);
    const stakeholders = fillTemplate(
      'stakeholders',
      base,
      [{ at: base.declaredAt, kind: 'update', actor: 'a', text: 'Restarting the connection pool', data: {} }],
      null,
    );
    assert.match(stakeholders.text, /Priority: P1/);
    assert.match(stakeholders.text, /Restarting the connection pool/);
    assert.match(stakeholders.text, /Next update: by 22 Nov 2026, 04:05:00/);
    const caseworkers = fillTemplate('caseworkers', base, [], null);
    assert.match(caseworkers.text, /Do not give a time when it will be fixed/);
    assert.throws(() => fillTemplate('press' as never, base, [], null), { code: 'ENTITLE_INPUT_INVALID' });
  });

  it('keeps the committed escalation policy to the response and update times of each priority', async () => {
    // `entitle incident list` and `entitle status` judge lateness by the model; the service's
    // reminders by the policy: they must agree.
    const policy = await loadEscalationPolicy({});
    for (const priority of PRIORITIES) {
      assert.equal(
        policy.priorities[priority].respondWithinMinutes,
        PRIORITY_DEFINITIONS[priority].respondWithinMinutes,
        priority,
      );
      assert.equal(
        policy.priorities[priority].updateEveryMinutes,
        PRIORITY_DEFINITIONS[priority].updateEveryMinutes,
        priority,
      );
    }
    assert.equal(policy.priorities.P1.escalateAfterMinutes, 15, 'P1: escalate if not acknowledged in 15 minutes');
  });

  it('acknowledges once', async () => {
    const db = await openPglite(undefined);
    const { migrate } = await import('../store/index.ts');
    await migrate(db);
    try {
      await declareIncident(db, { title: 'Slow', priority: 'P2', actor: 'a' });
      const first = await acknowledgeIncident(db, 'INC-1', 'asha');
      const second = await acknowledgeIncident(db, 'INC-1', 'ben');
      assert.equal(second.acknowledgedBy, 'asha');
      assert.equal(first.acknowledgedAt, second.acknowledgedAt);
    } finally {
      await db.close();
    }
  });
});
