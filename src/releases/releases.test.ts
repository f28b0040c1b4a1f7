import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditEventsFor, verifyAuditChain } from '../audit/index.ts';
import { EntitleError } from '../errors/index.ts';
import { addFreezeWindow } from '../freeze-windows/index.ts';
import type { RuleSet } from '../rules/index.ts';
import {
  beforeUprating,
  compile,
  taper,
  testDatabases,
  ucBundle,
  uprating,
  type TestDatabase,
} from '../testing/index.ts';
import {
  activeVersions,
  approveRelease,
  compared,
  createRelease,
  getRelease,
  promoteRelease,
  readStats,
  rejectRelease,
  resolveActiveRuleSets,
  rollbackRelease,
  runScheduledPromotions,
  seedActiveVersions,
  setCanary,
  startShadow,
  type GateSettings,
} from './index.ts';

const GATES: GateSettings = {
  unexpectedRate: 0.001,
  errorRate: 0.001,
  minSample: 10,
  latencyRatio: 2,
  latencyFloorMicros: 1000,
  minShadowMinutes: 0,
};
const PAST = '2026-04-05T23:00:00.000Z';

const refused = (code: string, pattern?: RegExp) => (error: unknown) => {
  assert.ok(error instanceof EntitleError, String(error));
  assert.equal(error.code, code, error.message);
  if (pattern) assert.match(`${error.message} ${error.problems.map((p) => p.message).join(' ')}`, pattern);
  return true;
};

async function withReleases(
  kind: 'pglite' | 'postgres',
  work: (t: TestDatabase, rules: { active: RuleSet; candidate: RuleSet; bad: RuleSet }) => Promise<void>,
): Promise<void> {
  const t = await testDatabases[kind]();
  try {
    const bundle = await ucBundle();
    const rules = {
      active: compile(beforeUprating(bundle)),
      candidate: compile(uprating(bundle)),
      bad: compile(taper(bundle, '56%')),
    };
    await seedActiveVersions(t.db, [rules.active.program]);
    await work(t, rules);
  } finally {
    await t.drop();
  }
}

const passing = async (t: TestDatabase, id: string, counts = 'identical = 20') =>
  t.db.query(`UPDATE release_stats SET ${counts} WHERE release_id = $1`, [id]);

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`releases on ${kind}`, () => {
    it('goes draft, validated, shadow, canary, active under the two-person rule, and every step is chained', async () => {
      await withReleases(kind, async (t, { active, candidate }) => {
        const created = await createRelease(t.db, {
          program: candidate.program,
          author: 'alice',
          summary: 'April 2026 uprating',
          effectiveAt: PAST,
          expectations: { changes: [] },
          golden: { total: 94, failed: [] },
        });
        assert.equal(created.state, 'validated');
        await assert.rejects(
          setCanary(t.db, created.id, 5, 'alice', 'too early'),
          refused('ENTITLE_RELEASE_TRANSITION_INVALID', /validated and cannot become canary/),
        );
        const shadow = await startShadow(t.db, created.id, { sharePercent: 100, preview: true }, 'alice', 'compare');
        assert.equal(shadow.baselineHash, active.hash);
        await setCanary(t.db, created.id, 5, 'alice', 'start small');
        await assert.rejects(
          setCanary(t.db, created.id, 2, 'alice', 'shrink'),
          refused('ENTITLE_RELEASE_TRANSITION_INVALID', /only grows/),
        );
        await setCanary(t.db, created.id, 25, 'alice', 'widen');

        await assert.rejects(
          approveRelease(t.db, created.id, 'promotion', 'alice', 'mine'),
          refused('ENTITLE_RELEASE_APPROVAL_REQUIRED', /cannot approve/),
        );
        await assert.rejects(
          promoteRelease(t.db, created.id, 'alice', 'go', GATES),
          refused('ENTITLE_RELEASE_APPROVAL_REQUIRED', /not been approved/),
        );
        await approveRelease(t.db, created.id, 'promotion', 'bob', 'checked the shadow report');
        await assert.rejects(
          promoteRelease(t.db, created.id, 'bob', 'go', GATES),
          refused('ENTITLE_RELEASE_GATE_CLOSED', /0 comparisons so far/),
        );
        await passing(t, created.id);
        const promoted = await promoteRelease(t.db, created.id, 'bob', 'go', GATES);
        assert.equal(promoted.scheduled, false);
        assert.equal(promoted.release.state, 'active');
        assert.equal((await activeVersions(t.db)).get('universal-credit')?.hash, candidate.hash);

        const steps = (await auditEventsFor(t.db, created.id)).map((e) => `${e.action} by ${e.actor}`);
        assert.deepEqual(steps, [
          'release.created by alice',
          'release.validated by entitle',
          'release.shadow by alice',
          'release.canary by alice',
          'release.canary_changed by alice',
          'release.approved by bob',
          'release.active by bob',
        ]);
        const audit = await verifyAuditChain(t.db);
        assert.equal(audit.ok, true);

        // An altered step is detected.
        await t.db.query("UPDATE audit_events SET actor = 'mallory' WHERE action = 'release.approved'");
        const broken = await verifyAuditChain(t.db);
        assert.equal(broken.ok, false);
        assert.match(!broken.ok ? broken.message : '', /was altered/);
      });
    });

    it('rejects a release whose golden tests fail, and refuses every later step', async () => {
      await withReleases(kind, async (t, { bad }) => {
        const created = await createRelease(t.db, {
          program: bad.program,
          author: 'alice',
          summary: 'taper',
          effectiveAt: PAST,
          expectations: { changes: [] },
          golden: { total: 3, failed: ['earner'] },
        });
        assert.equal(created.state, 'rejected');
        await assert.rejects(
          startShadow(t.db, created.id, { sharePercent: 100, preview: false }, 'alice', 'x'),
          refused('ENTITLE_RELEASE_TRANSITION_INVALID', /rejected is final/),
        );
      });
    });

    it('rolls an active release back to the version it replaced, with the evidence', async () => {
      await withReleases(kind, async (t, { active, bad }) => {
        const created = await createRelease(t.db, {
          program: bad.program,
          author: 'alice',
          summary: 'taper',
          effectiveAt: PAST,
          expectations: { changes: [] },
          golden: { total: 1, failed: [] },
        });
        await startShadow(t.db, created.id, { sharePercent: 100, preview: false }, 'alice', 'compare');
        await approveRelease(t.db, created.id, 'promotion', 'bob', 'ok');
        await passing(t, created.id);
        await promoteRelease(t.db, created.id, 'bob', 'go', GATES);
        const rolled = await rollbackRelease(t.db, created.id, 'carol', 'earners paid less', { unexpected: 12 });
        assert.equal(rolled.state, 'rolled-back');
        assert.equal((await activeVersions(t.db)).get('universal-credit')?.hash, active.hash);
        const last = (await auditEventsFor(t.db, created.id)).at(-1)!;
        assert.equal(last.action, 'release.rolled_back');
        assert.equal(last.evidence.unexpected, 12);
        await assert.rejects(
          rollbackRelease(t.db, created.id, 'carol', 'again'),
          refused('ENTITLE_RELEASE_TRANSITION_INVALID'),
        );
      });
    });

    it('blocks promotion in a freeze window unless two people approve an emergency override', async () => {
      await withReleases(kind, async (t, { candidate }) => {
        const now = new Date();
        await addFreezeWindow(
          t.db,
          {
            startsAt: new Date(now.getTime() - 3_600_000).toISOString(),
            endsAt: new Date(now.getTime() + 3_600_000).toISOString(),
            reason: 'payment day',
          },
          'ops',
        );
        const created = await createRelease(t.db, {
          program: candidate.program,
          author: 'alice',
          summary: 'uprating',
          effectiveAt: PAST,
          expectations: { changes: [] },
          golden: { total: 1, failed: [] },
        });
        await startShadow(t.db, created.id, { sharePercent: 100, preview: false }, 'alice', 'compare');
        await approveRelease(t.db, created.id, 'promotion', 'bob', 'ok');
        await passing(t, created.id);
        await assert.rejects(
          promoteRelease(t.db, created.id, 'bob', 'go', GATES),
          refused('ENTITLE_FREEZE_WINDOW', /payment day/),
        );
        await approveRelease(t.db, created.id, 'emergency', 'bob', 'wrong rate in payment');
        await assert.rejects(
          promoteRelease(t.db, created.id, 'bob', 'go', GATES),
          refused('ENTITLE_FREEZE_WINDOW', /1 so far/),
        );
        await approveRelease(t.db, created.id, 'emergency', 'carol', 'agreed');
        assert.equal((await promoteRelease(t.db, created.id, 'bob', 'go', GATES)).release.state, 'active');
      });
    });

    it('schedules a promotion for the effective time and makes it then, with no one there', async () => {
      await withReleases(kind, async (t, { candidate }) => {
        const effective = new Date(Date.now() + 60_000);
        const created = await createRelease(t.db, {
          program: candidate.program,
          author: 'alice',
          summary: 'uprating',
          effectiveAt: effective.toISOString(),
          expectations: { changes: [] },
          golden: { total: 1, failed: [] },
        });
        await startShadow(t.db, created.id, { sharePercent: 100, preview: true }, 'alice', 'compare');
        await approveRelease(t.db, created.id, 'promotion', 'bob', 'ok');
        await passing(t, created.id);
        const result = await promoteRelease(t.db, created.id, 'bob', 'at the effective time', GATES);
        assert.equal(result.scheduled, true);
        assert.equal(result.release.state, 'shadow');
        assert.deepEqual(await runScheduledPromotions(t.db, GATES, new Date(effective.getTime() - 1)), {
          promoted: [],
          waiting: [],
          cancelled: [],
        });
        // Too few comparisons at the effective time: it waits, still scheduled.
        await t.db.query('UPDATE release_stats SET identical = 0 WHERE release_id = $1', [created.id]);
        const waiting = await runScheduledPromotions(t.db, GATES, new Date(effective.getTime() + 1));
        assert.deepEqual([waiting.promoted.length, waiting.waiting.length, waiting.cancelled.length], [0, 1, 0]);
        await passing(t, created.id);
        const { promoted } = await runScheduledPromotions(t.db, GATES, new Date(effective.getTime() + 1));
        assert.equal(promoted.length, 1);
        assert.equal((await activeVersions(t.db)).get('universal-credit')?.hash, candidate.hash);
        assert.equal((await auditEventsFor(t.db, created.id)).at(-1)!.actor, 'entitle');
      });
    });

    it('restarts the comparisons of a release under test when the active version changes, and never rolls back a release the benefit does not point at', async () => {
      await withReleases(kind, async (t, { active, candidate, bad }) => {
        const first = await createRelease(t.db, {
          program: candidate.program,
          author: 'alice',
          summary: 'uprating',
          effectiveAt: PAST,
          expectations: { changes: [] },
          golden: { total: 1, failed: [] },
        });
        await startShadow(t.db, first.id, { sharePercent: 100, preview: false }, 'alice', 'compare');
        await approveRelease(t.db, first.id, 'promotion', 'bob', 'ok');
        await passing(t, first.id);
        await promoteRelease(t.db, first.id, 'bob', 'go', GATES);

        const second = await createRelease(t.db, {
          program: bad.program,
          author: 'alice',
          summary: 'taper',
          effectiveAt: PAST,
          expectations: { changes: [] },
          golden: { total: 1, failed: [] },
        });
        await startShadow(t.db, second.id, { sharePercent: 100, preview: false }, 'alice', 'compare');
        await passing(t, second.id, 'identical = 500');
        // The active release is rolled back while the second is in shadow: its evidence was
        // against the uprating, so it starts again against the version now active.
        await rollbackRelease(t.db, first.id, 'carol', 'not agreed');
        const rebased = await getRelease(t.db, second.id);
        assert.equal(rebased.baselineHash, active.hash);
        assert.equal(compared(await readStats(t.db, second.id)), 0);
        assert.equal((await auditEventsFor(t.db, second.id)).at(-1)!.action, 'release.rebased');

        // A record that says active while the pointer says otherwise cannot move the pointer.
        await t.db.query("UPDATE releases SET state = 'active' WHERE id = $1", [first.id]);
        await assert.rejects(
          rollbackRelease(t.db, first.id, 'carol', 'again'),
          refused('ENTITLE_RELEASE_TRANSITION_INVALID', /is recorded as active but universal-credit is decided by/),
        );
        assert.equal((await activeVersions(t.db)).get('universal-credit')?.hash, active.hash);
      });
    });

    it('serves the active version from the database, not a changed rule set on disk', async () => {
      await withReleases(kind, async (t, { active, bad }) => {
        const { ruleSets, differing } = await resolveActiveRuleSets(t.db, new Map([['universal-credit', bad]]));
        assert.equal(ruleSets.get('universal-credit')?.hash, active.hash);
        assert.deepEqual(differing, [{ benefit: 'universal-credit', onDisk: bad.hash, active: active.hash }]);
      });
    });

    it('allows one release per benefit under test at a time', async () => {
      await withReleases(kind, async (t, { candidate, bad }) => {
        const a = await createRelease(t.db, {
          program: candidate.program,
          author: 'alice',
          summary: 'a',
          effectiveAt: PAST,
          expectations: { changes: [] },
          golden: { total: 1, failed: [] },
        });
        const b = await createRelease(t.db, {
          program: bad.program,
          author: 'alice',
          summary: 'b',
          effectiveAt: PAST,
          expectations: { changes: [] },
          golden: { total: 1, failed: [] },
        });
        await startShadow(t.db, a.id, { sharePercent: 50, preview: false }, 'alice', 'compare');
        await assert.rejects(
          startShadow(t.db, b.id, { sharePercent: 50, preview: false }, 'alice', 'compare'),
          refused('ENTITLE_RELEASE_TRANSITION_INVALID', /already in shadow/),
        );
        await rejectRelease(t.db, a.id, 'alice', 'superseded by b');
        assert.equal(
          (await startShadow(t.db, b.id, { sharePercent: 50, preview: false }, 'alice', 'compare')).state,
          'shadow',
        );
      });
    });
  });
}
