import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { verifyAuditChain } from '../audit/index.ts';
import { createKey } from '../keys/index.ts';
import { migrate, openPglite } from '../store/index.ts';
import { spawnServer, testDatabases, type ServerProcess } from '../testing/index.ts';
import {
  approveFlagChange,
  evaluateFlag,
  flagHistory,
  getFlag,
  listFlags,
  LiveFlags,
  recordedEnvironment,
  recordEnvironment,
  rejectFlagChange,
  requestFlagChange,
  rolloutBucket,
  seedFlags,
  staleFlags,
  type Flag,
} from './index.ts';

const quiet = { info: () => undefined, warn: () => undefined };

async function seeded() {
  const db = await openPglite(undefined);
  await migrate(db);
  await seedFlags(db);
  return db;
}

describe('feature flags', () => {
  it('seeds the declared flags once, each with an audit event, and keeps values already there', async () => {
    const db = await seeded();
    try {
      await requestFlagChange(db, {
        key: 'shadow-evaluation',
        settings: { enabled: false },
        actor: 'ops-a',
        reason: 'testing',
      });
      await seedFlags(db);
      assert.equal((await getFlag(db, 'shadow-evaluation')).enabled, false);
      const history = await flagHistory(db, 'shadow-evaluation');
      assert.deepEqual(
        history.map((e) => e.action),
        ['flag.created', 'flag.change_requested', 'flag.changed'],
      );
    } finally {
      await db.close();
    }
  });

  it('audits every change in the hash chain with who, before, after and why', async () => {
    const db = await seeded();
    try {
      const result = await requestFlagChange(db, {
        key: 'explanation-traces',
        settings: { rolloutBasisPoints: 2_500 },
        actor: 'dev-a',
        reason: 'try traces on a quarter',
      });
      assert.equal(result.applied, true);
      assert.equal(result.flag.rolloutBasisPoints, 2_500);
      const changed = (await flagHistory(db, 'explanation-traces')).at(-1)!;
      assert.equal(changed.action, 'flag.changed');
      assert.equal(changed.actor, 'dev-a');
      assert.equal(changed.reason, 'try traces on a quarter');
      assert.deepEqual(changed.evidence.before, {
        enabled: true,
        rolloutBasisPoints: 10_000,
        owner: 'assessment-service',
        expiresOn: '2027-06-30',
      });
      assert.deepEqual(changed.evidence.after, {
        enabled: true,
        rolloutBasisPoints: 2_500,
        owner: 'assessment-service',
        expiresOn: '2027-06-30',
      });
      assert.equal((await verifyAuditChain(db)).ok, true);
    } finally {
      await db.close();
    }
  });

  it('in production, applies a change only when a second person approves it', async () => {
    const db = await seeded();
    try {
      assert.equal(await recordEnvironment(db, 'production', 'entitle'), 'production');
      // Never lowered: a later configuration saying development changes nothing.
      assert.equal(await recordEnvironment(db, 'development', 'entitle'), 'production');
      assert.equal(await recordedEnvironment(db), 'production');
      const asked = await requestFlagChange(db, {
        key: 'shadow-evaluation',
        settings: { enabled: false },
        actor: 'ops-a',
        reason: 'surge',
      });
      assert.equal(asked.applied, false);
      assert.equal(asked.change.status, 'pending');
      assert.equal((await getFlag(db, 'shadow-evaluation')).enabled, true, 'not applied before approval');
      await assert.rejects(approveFlagChange(db, asked.change.id, 'ops-a', 'my own'), {
        code: 'ENTITLE_FLAG_APPROVAL_REQUIRED',
      });
      await assert.rejects(
        requestFlagChange(db, {
          key: 'shadow-evaluation',
          settings: { enabled: true },
          actor: 'ops-c',
          reason: 'other',
        }),
        { code: 'ENTITLE_FLAG_CHANGE_PENDING' },
      );
      const approved = await approveFlagChange(db, asked.change.id, 'ops-b', 'agreed');
      assert.equal(approved.flag.enabled, false);
      assert.equal(approved.change.decidedBy, 'ops-b');
      const applied = (await flagHistory(db, 'shadow-evaluation')).at(-1)!;
      assert.equal(applied.evidence.requestedBy, 'ops-a');
      assert.equal(applied.evidence.approvedBy, 'ops-b');
      const again = await requestFlagChange(db, {
        key: 'shadow-evaluation',
        settings: { enabled: true },
        actor: 'ops-a',
        reason: 'surge over',
      });
      const rejected = await rejectFlagChange(db, again.change.id, 'ops-b', 'not yet');
      assert.equal(rejected.status, 'rejected');
      assert.equal((await getFlag(db, 'shadow-evaluation')).enabled, false);
    } finally {
      await db.close();
    }
  });

  it('refuses a change that is not valid, naming the field', async () => {
    const db = await seeded();
    try {
      await assert.rejects(
        requestFlagChange(db, { key: 'no-such-flag', settings: { enabled: false }, actor: 'a', reason: 'r' }),
        { code: 'ENTITLE_FLAG_NOT_FOUND' },
      );
      await assert.rejects(
        requestFlagChange(db, {
          key: 'shadow-evaluation',
          settings: { rolloutBasisPoints: 5_000 },
          actor: 'a',
          reason: 'r',
        }),
        (error: { code: string; problems: { field: string }[] }) => {
          assert.equal(error.code, 'ENTITLE_INPUT_INVALID');
          assert.equal(error.problems[0]!.field, 'rollout');
          return true;
        },
      );
      await assert.rejects(
        requestFlagChange(db, { key: 'shadow-evaluation', settings: { expiresOn: 'soon' }, actor: 'a', reason: 'r' }),
        { code: 'ENTITLE_INPUT_INVALID' },
      );
      await assert.rejects(
        requestFlagChange(db, { key: 'shadow-evaluation', settings: { enabled: false }, actor: ' ', reason: '' }),
        { code: 'ENTITLE_INPUT_INVALID' },
      );
    } finally {
      await db.close();
    }
  });

  it('lists the flags past their expiry as stale', async () => {
    const db = await seeded();
    try {
      await requestFlagChange(db, {
        key: 'explanation-traces',
        settings: { expiresOn: '2026-01-31' },
        actor: 'dev-a',
        reason: 'short trial',
      });
      assert.deepEqual(
        (await staleFlags(db, '2026-12-04')).map((f) => f.key),
        ['explanation-traces'],
      );
      assert.deepEqual(await staleFlags(db, '2026-01-01'), []);
      assert.equal((await listFlags(db)).length, 4);
    } finally {
      await db.close();
    }
  });

  it('rolls out by applicationId: the same answer every time, close to the share asked for', () => {
    const flag: Flag = {
      key: 'explanation-traces',
      description: '',
      kind: 'release',
      owner: 'x',
      expiresOn: '2027-01-01',
      enabled: true,
      rolloutBasisPoints: 2_000,
      updatedAt: '',
      updatedBy: '',
    };
    let on = 0;
    for (let i = 0; i < 10_000; i++) {
      const id = `APP-${i}`;
      const value = evaluateFlag(flag, id).value;
      assert.equal(evaluateFlag(flag, id).value, value);
      if (value) on += 1;
    }
    assert.ok(on > 1_800 && on < 2_200, `${on} of 10000 on at 20%`);
    assert.equal(
      rolloutBucket('a', 'APP-1') === rolloutBucket('b', 'APP-1') &&
        rolloutBucket('a', 'APP-2') === rolloutBucket('b', 'APP-2'),
      false,
      'each flag rolls out independently',
    );
    assert.equal(evaluateFlag(flag, undefined).value, false, 'no application: off');
    assert.equal(evaluateFlag({ ...flag, enabled: false, rolloutBasisPoints: 10_000 }, 'APP-1').value, false);
  });

  it('is read through OpenFeature, and a change reaches the instance without a restart', async () => {
    const db = await seeded();
    const live = await LiveFlags.start(db, new Registry(), quiet, { listen: true, pollMs: 50 });
    try {
      assert.equal(live.isOn('shadow-evaluation'), true);
      const details = await live.client.getBooleanDetails('shadow-evaluation', false);
      assert.equal(details.value, true);
      assert.equal(details.flagMetadata.owner, 'policy-releases');
      const missing = await live.client.getBooleanDetails('no-such-flag', true);
      assert.equal(missing.value, true);
      assert.equal(missing.errorCode, 'FLAG_NOT_FOUND');
      await requestFlagChange(db, {
        key: 'shadow-evaluation',
        settings: { enabled: false },
        actor: 'ops-a',
        reason: 'test',
      });
      const deadline = Date.now() + 2_000;
      while (live.isOn('shadow-evaluation') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(live.isOn('shadow-evaluation'), false);
      assert.equal(await live.client.getBooleanValue('shadow-evaluation', true), false);
    } finally {
      await live.stop();
      await db.close();
    }
  });

  it('reaches three instances on one PostgreSQL database within 1 s, and is audited', async () => {
    const t = await testDatabases.postgres();
    const servers: ServerProcess[] = [];
    try {
      for (let i = 0; i < 3; i++) servers.push(await spawnServer({ DATABASE_URL: t.url! }));
      const { key } = await createKey(t.db, 'flag-reader', ['operator']);
      const readFlag = async (url: string, flagKey: string) => {
        const response = await fetch(`${url}/v1/flags`, { headers: { authorization: `Bearer ${key}` } });
        assert.equal(response.status, 200);
        return ((await response.json()) as { flags: Flag[] }).flags.find((f) => f.key === flagKey)!;
      };
      for (const [round, enabled] of [false, true, false].entries()) {
        const started = performance.now();
        await requestFlagChange(t.db, {
          key: 'replay-and-reports',
          settings: { enabled },
          actor: 'ops-a',
          reason: `round ${round}`,
        });
        const lags = await Promise.all(
          servers.map(async (server) => {
            while ((await readFlag(server.url, 'replay-and-reports')).enabled !== enabled) {
              if (performance.now() - started > 5_000)
                throw new Error('an instance did not follow the flag within 5 s');
              await new Promise((r) => setTimeout(r, 5));
            }
            return performance.now() - started;
          }),
        );
        for (const ms of lags) assert.ok(ms < 1_000, `an instance took ${Math.round(ms)} ms to follow the flag`);
      }
      // Switched off, the kill switch refuses the report endpoints on every instance.
      const { key: caseworker } = await createKey(t.db, 'replayer', ['caseworker']);
      for (const server of servers) {
        const response = await fetch(`${server.url}/v1/decisions/0190d0c4-0000-7000-8000-000000000000/replay`, {
          method: 'POST',
          headers: { authorization: `Bearer ${caseworker}` },
        });
        assert.equal(response.status, 503);
        assert.equal(((await response.json()) as { code: string }).code, 'ENTITLE_DEGRADED');
        assert.ok(response.headers.get('retry-after'));
      }
      const history = await flagHistory(t.db, 'replay-and-reports');
      assert.equal(history.filter((e) => e.action === 'flag.changed').length, 3);
    } finally {
      for (const s of servers) s.child.kill('SIGTERM');
      await Promise.all(servers.map((s) => s.exited));
      await t.drop();
    }
  });
});
