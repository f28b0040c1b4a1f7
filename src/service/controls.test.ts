import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyControls } from '../audit/index.ts';
import { recordEnvironment, seedFlags } from '../flags/index.ts';
import { adoptUnauditedKeys, createKey, revokeKey, rotateKey } from '../keys/index.ts';
import {
  approveRelease,
  createRelease,
  promoteRelease,
  seedActiveVersions,
  setCanary,
  startShadow,
  type GateSettings,
} from '../releases/index.ts';
import type { Database } from '../store/index.ts';
import { beforeUprating, compile, taper, testDatabases, ucBundle, uprating } from '../testing/index.ts';

const GATES: GateSettings = {
  unexpectedRate: 0.001,
  errorRate: 0.001,
  minSample: 10,
  latencyRatio: 2,
  latencyFloorMicros: 1000,
  minShadowMinutes: 0,
};

/** A service's controls as a real history leaves them: rules, a promoted release, a canary, flags, keys. */
async function history(db: Database): Promise<{ promoted: string; canary: string; otherHash: string }> {
  const bundle = await ucBundle();
  const before = compile(beforeUprating(bundle));
  const after = compile(uprating(bundle));
  const other = compile(taper(bundle, '56%'));
  await seedActiveVersions(db, [before.program]);
  await seedFlags(db);
  await recordEnvironment(db, 'production', 'entitle');
  await adoptUnauditedKeys(db);
  await createKey(db, 'front-end', ['assessor'], 'alice');
  await createKey(db, 'old-console', ['caseworker'], 'alice');
  await revokeKey(db, 'old-console', 'bob');
  // A rotation: the old key stops working after a week of overlap.
  await createKey(db, 'batch-1', ['assessor'], 'alice');
  await rotateKey(db, 'batch-1', 'alice', { newName: 'batch-2', overlapDays: 7 });
  const release = await createRelease(db, {
    program: after.program,
    author: 'alice',
    summary: 'April 2026 uprating',
    effectiveAt: '2026-04-05T23:00:00.000Z',
    expectations: { changes: [] },
    golden: { total: 10, failed: [] },
  });
  await startShadow(db, release.id, { sharePercent: 100, preview: false }, 'alice', 'compare');
  await approveRelease(db, release.id, 'promotion', 'bob', 'checked');
  await db.query('UPDATE release_stats SET identical = 20 WHERE release_id = $1', [release.id]);
  await promoteRelease(db, release.id, 'bob', 'go', GATES);
  const canary = await createRelease(db, {
    program: other.program,
    author: 'carol',
    summary: 'taper trial',
    effectiveAt: '2026-04-05T23:00:00.000Z',
    expectations: { changes: [] },
    golden: { total: 10, failed: [] },
  });
  await startShadow(db, canary.id, { sharePercent: 100, preview: false }, 'carol', 'compare');
  await setCanary(db, canary.id, 5, 'carol', 'start small');
  return { promoted: release.id, canary: canary.id, otherHash: other.hash };
}

/** A tampering done once Bob Jones holds a key (bob-laptop) of his own. */
function withBob(sql: string) {
  return async (_ids: unknown, db: Database) => {
    await createKey(db, 'bob-laptop', ['approver'], 'alice', 'Bob Jones');
    return sql;
  };
}

describe('the controls in the audit log', () => {
  it('match a real history of releases, flags, the environment and keys', async () => {
    const t = await testDatabases.pglite();
    try {
      await history(t.db);
      const report = await verifyControls(t.db);
      assert.deepEqual(report.problems, []);
      assert.ok(report.ok);
      assert.deepEqual(report.checked, {
        releases: 2,
        approvals: 1,
        benefits: 1,
        flags: report.checked.flags,
        environment: 1,
        keys: 4,
      });
    } finally {
      await t.drop();
    }
  });

  for (const [name, tamper, expected] of [
    [
      'a forged approval',
      (ids) =>
        `INSERT INTO release_approvals (release_id, kind, approver, reason, approved_at) VALUES ('${ids.canary}', 'promotion', 'bob', 'x', '2026-01-01')`,
      /the promotion approval of release .* by "bob" has no audit event: it was forged/,
    ],
    [
      'an approval by another name',
      () => "UPDATE release_approvals SET approver = 'Bob'",
      /approval of release .* by "Bob" has no audit event/,
    ],
    [
      'the active rule set repointed',
      (ids) => `UPDATE active_rulesets SET ruleset_hash = '${ids.otherHash}', release_id = '${ids.canary}'`,
      /universal-credit is decided by .* but the audit log makes .* active: the pointer was moved by hand/,
    ],
    [
      'a release author changed',
      (ids) => `UPDATE releases SET author = 'bob' WHERE id = '${ids.canary}'`,
      /its author is "bob" but the audit log records "carol"/,
    ],
    [
      'a canary widened by hand',
      (ids) => `UPDATE releases SET canary_basis_points = 10000 WHERE id = '${ids.canary}'`,
      /canary share \(basis points\) is "10000" but the audit log records "500"/,
    ],
    [
      'a baseline changed, so a rollback would return elsewhere',
      (ids) => `UPDATE releases SET baseline_hash = '${ids.otherHash}' WHERE id = '${ids.canary}'`,
      /its baseline \(the version a rollback returns to\) is .* but the audit log records/,
    ],
    [
      'the pointer row deleted and seeded again from the files',
      async (_ids, db) => {
        await db.exec('DELETE FROM active_rulesets');
        await seedActiveVersions(db, [compile(beforeUprating(await ucBundle())).program]);
        return 'SELECT 1';
      },
      /the active rule set of universal-credit was seeded twice/,
    ],
    [
      'a flag switched by hand',
      () => 'UPDATE feature_flags SET enabled = NOT enabled',
      /flag .* is .* but the audit log records/,
    ],
    [
      'the environment lowered',
      () => "UPDATE service_settings SET value = 'development' WHERE name = 'environment'",
      /recorded environment is "development" but the audit log records "production"/,
    ],
    [
      'a key handed to another person',
      withBob(
        "UPDATE api_keys SET person_id = (SELECT id FROM people WHERE handle = 'bob jones') WHERE name = 'front-end'",
      ),
      /key front-end: its holder differ/,
    ],
    [
      'a person renamed, so their keys act as someone else',
      withBob("UPDATE people SET handle = 'carol', name = 'carol' WHERE handle = 'bob jones'"),
      /key bob-laptop: its holder differ/,
    ],
    [
      'a person given another name, so their keys act as someone else',
      withBob("UPDATE people SET name = 'Carol King' WHERE handle = 'bob jones'"),
      /key bob-laptop: its holder differ/,
    ],
    [
      'a key given the admin role',
      () => "UPDATE api_keys SET roles = '{admin}' WHERE name = 'front-end'",
      /key front-end: its roles differ/,
    ],
    [
      'a revoked key restored',
      () => "UPDATE api_keys SET revoked_at = NULL WHERE name = 'old-console'",
      /key old-console: its revocation \(undone\) differ/,
    ],
    [
      "a rotated-out key's expiry moved by hand, so it keeps working",
      () => "UPDATE api_keys SET expires_at = '2999-01-01T00:00:00.000Z' WHERE name = 'batch-1'",
      /key batch-1: its expiry differ/,
    ],
    [
      'a key inserted by hand',
      () =>
        "INSERT INTO api_keys (id, name, key_hash, roles, created_at) VALUES (gen_random_uuid(), 'backdoor', 'sha256:x', '{admin}', '2026-01-01')",
      /key backdoor has no audit event: it was inserted by hand/,
    ],
  ] as const satisfies readonly (readonly [
    string,
    (ids: Awaited<ReturnType<typeof history>>, db: Database) => string | Promise<string>,
    RegExp,
  ])[]) {
    it(`catch ${name}`, async () => {
      const t = await testDatabases.pglite();
      try {
        const ids = await history(t.db);
        await t.db.exec(await tamper(ids, t.db));
        const report = await verifyControls(t.db);
        assert.equal(report.ok, false);
        assert.ok(
          report.problems.some((p) => expected.test(p)),
          report.problems.join('\n'),
        );
      } finally {
        await t.drop();
      }
    });
  }
});
