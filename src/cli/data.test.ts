import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DecisionWriter, purgeCutoff } from '../decisions/index.ts';
import { createKey } from '../keys/index.ts';
import { loadRuleSet } from '../rules/index.ts';
import { lockDataDir } from '../store/index.ts';
import {
  canaryInput,
  decisionDraft,
  placeQueued,
  projectRoot,
  runEntitle,
  spawnServer,
  testDatabases,
} from '../testing/index.ts';

const root = projectRoot;
const entitle = (env: Record<string, string>, ...args: string[]) => runEntitle(args, env);

describe('data commands', { timeout: 180_000 }, () => {
  it('audit verify passes an intact chain and exits 1 naming a row altered by SQL (PostgreSQL)', async () => {
    const t = await testDatabases.postgres();
    try {
      const ruleSet = await loadRuleSet(join(root, 'rulesets/uk-universal-credit'));
      const writer = new DecisionWriter(t.db);
      for (let i = 0; i < 3; i++) {
        await writer.write(decisionDraft(ruleSet, canaryInput), ruleSet.program.bundle);
      }
      await placeQueued(t.db);
      const env = { DATABASE_URL: t.url! };
      const intact = await entitle(env, 'audit', 'verify');
      assert.equal(intact.code, 0, intact.stderr);
      assert.match(intact.stdout, /verified 3 decisions against 1 signed checkpoint: the decision log is intact/);

      await t.db.query(
        `UPDATE decisions SET explanation = '["You are entitled to more."]' WHERE id = (SELECT ref FROM log_entries WHERE log = 'decisions' AND leaf_index = 1)`,
      );
      const broken = await entitle(env, 'audit', 'verify');
      assert.equal(broken.code, 1);
      assert.match(
        broken.stderr,
        /the decision record does not verify after 1 good decision: decision \S+ was altered: its content no longer matches its hash \(leaf 1\)/,
      );
    } finally {
      await t.drop();
    }
  });

  it('decisions purge has the service remove old inputs in batches and records who purged what', async () => {
    const t = await testDatabases.postgres();
    const server = await spawnServer({ DATABASE_URL: t.url! });
    try {
      const ruleSet = await loadRuleSet(join(root, 'rulesets/uk-universal-credit'));
      const writer = new DecisionWriter(t.db);
      for (let i = 0; i < 3; i++) await writer.write(decisionDraft(ruleSet, canaryInput), ruleSet.program.bundle);
      await placeQueued(t.db);
      // Two of them as if made in 2020 (the chain no longer verifies: this test is about retention).
      await t.db.query(
        "UPDATE decisions SET created_at = '2020-01-01T00:00:00.000Z' WHERE seq IN (SELECT seq FROM decisions ORDER BY seq LIMIT 2)",
      );
      // Failed assessments name their applications: an old one goes with the inputs, a new one stays.
      await t.db.query(
        "INSERT INTO assessment_failures (at, benefit, application_id, code) VALUES ('2020-01-01T00:00:00.000Z', 'universal-credit', 'APP-OLD', 'ENTITLE_STORE_UNAVAILABLE'), ($1, 'universal-credit', 'APP-NEW', 'ENTITLE_STORE_UNAVAILABLE')",
        [new Date().toISOString()],
      );
      const key = (await createKey(t.db, 'ops-laptop', ['operator'], 'test', 'Asha Patel')).key;
      const as = { ENTITLE_URL: server.url, ENTITLE_API_KEY: key };
      const nothing = await entitle(as, 'decisions', 'purge', '--retention-days', '1');
      assert.equal(nothing.code, 0, nothing.stderr);
      assert.match(
        nothing.stdout,
        /removed the inputs of 2 decisions made before .*; removed 1 failed assessment record\n/,
      );
      const failures = await t.db.query<{ application_id: string }>('SELECT application_id FROM assessment_failures');
      assert.deepEqual(
        failures.rows.map((r) => r.application_id),
        ['APP-NEW'],
      );
      const again = await entitle(as, 'decisions', 'purge', '--before', '2021-01-01', '--json');
      assert.deepEqual(JSON.parse(again.stdout), {
        before: '2021-01-01T00:00:00.000Z',
        decisions: 0,
        releaseSamples: 0,
        assessmentFailures: 0,
      });
      const { rows } = await t.db.query<{ held: number }>(
        'SELECT count(*)::int AS held FROM decisions WHERE inputs IS NOT NULL',
      );
      assert.equal(rows[0]!.held, 1, 'the recent decision keeps its inputs');
      const events = await t.db.query<{ actor: string; evidence: { decisions: number } }>(
        "SELECT actor, evidence FROM audit_events WHERE action = 'decisions.purged' ORDER BY seq",
      );
      assert.deepEqual(
        events.rows.map((e) => `${e.actor}: ${e.evidence.decisions}`),
        ['Asha Patel: 2', 'Asha Patel: 0'],
      );
      const future = await entitle(as, 'decisions', 'purge', '--before', '2999-01-01');
      assert.equal(future.code, 2);
      assert.match(future.stderr, /before: give an instant in the past/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await t.drop();
    }
  });

  it('makes the first key on the embedded database, and every other through the service by an admin', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-keys-'));
    const env = { ENTITLE_DATA_DIR: dir, DATABASE_URL: '' };
    try {
      const first = await entitle(env, 'keys', 'create', '--name', 'ops', '--roles', 'admin', '--person', 'Asha Patel');
      assert.equal(first.code, 0, first.stderr);
      const admin = first.stdout.trim();
      assert.match(admin, /^ent_[A-Za-z0-9_-]{40,}$/);
      assert.match(first.stderr, /created key ops for Asha Patel with roles admin; it is shown only this once/);
      const second = await entitle(env, 'keys', 'create', '--name', 'sneaky', '--roles', 'admin');
      assert.equal(second.code, 6, 'once there is an admin key, keys are made through the service');
      assert.match(second.stderr, /ENTITLE_FORBIDDEN: this database has an admin key already/);

      const server = await spawnServer({ ...env, ENTITLE_ENVIRONMENT: 'development' });
      try {
        const asAdmin = { ...env, ENTITLE_URL: server.url, ENTITLE_API_KEY: admin };
        const created = await entitle(
          asAdmin,
          'keys',
          'create',
          '--name',
          'front-end',
          '--roles',
          'assessor',
          '--json',
        );
        assert.equal(created.code, 0, created.stderr);
        const key = (JSON.parse(created.stdout) as { key: string; person: string }).key;
        assert.match(key, /^ent_/);
        const listed = await entitle(asAdmin, 'keys', 'list');
        assert.match(listed.stdout, /^ops\tAsha Patel\tadmin\t/m);
        assert.match(listed.stdout, /^front-end\tfront-end\tassessor\t/m);
        assert.ok(!listed.stdout.includes(key), 'never the keys');
        assert.equal((await entitle(asAdmin, 'keys', 'create', '--name', 'front-end', '--roles', 'assessor')).code, 2);
        assert.equal((await entitle(asAdmin, 'keys', 'create', '--name', 'x', '--roles', 'superuser')).code, 2);
        const asFrontEnd = { ...asAdmin, ENTITLE_API_KEY: key };
        assert.equal((await entitle(asFrontEnd, 'keys', 'create', '--name', 'y', '--roles', 'admin')).code, 6);
        assert.match((await entitle(asAdmin, 'keys', 'revoke', 'front-end')).stdout, /revoked front-end/);
        const audit = await entitle(asAdmin, 'keys', 'list', '--json');
        assert.ok(
          (JSON.parse(audit.stdout) as { name: string; revokedAt: string | null }[]).find((k) => k.name === 'front-end')
            ?.revokedAt,
        );
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says clearly when a running process holds the embedded database', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-lock-'));
    const release = await lockDataDir(dir);
    try {
      const result = await entitle({ ENTITLE_DATA_DIR: dir, DATABASE_URL: '' }, 'audit', 'verify');
      assert.equal(result.code, 5);
      assert.match(result.stderr, new RegExp(`in use by process ${process.pid}`));
      assert.match(result.stderr, /DATABASE_URL/);
    } finally {
      await release();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('subject export and erase go through the service with the right roles, and say what they did', async () => {
    const t = await testDatabases.postgres();
    const server = await spawnServer({ DATABASE_URL: t.url! });
    const dir = await mkdtemp(join(tmpdir(), 'entitle-subject-'));
    try {
      const ruleSet = await loadRuleSet(join(root, 'rulesets/uk-universal-credit'));
      await new DecisionWriter(t.db).write(decisionDraft(ruleSet, canaryInput), ruleSet.program.bundle);
      const dpo = (await createKey(t.db, 'dpo-laptop', ['auditor'], 'test', 'Dana Officer')).key;
      const admin = (await createKey(t.db, 'admin-laptop', ['admin'], 'test', 'Ade Admin')).key;
      const as = (key: string) => ({ ENTITLE_URL: server.url, ENTITLE_API_KEY: key });
      const out = join(dir, 'export.json');
      const exported = await entitle(
        as(dpo),
        'subject',
        'export',
        '--application',
        canaryInput.applicationId,
        '--out',
        out,
      );
      assert.equal(exported.code, 0, exported.stderr);
      assert.match(exported.stdout, /^wrote .*export\.json: 1 decision, 0 comparison cases, 0 failed requests\n$/);
      assert.equal((await stat(out)).mode & 0o777, 0o600, 'the export holds personal data: readable by its owner only');
      const noReason = await entitle(as(admin), 'subject', 'erase', '--application', canaryInput.applicationId);
      assert.equal(noReason.code, 2);
      assert.match(noReason.stderr, /--reason: give --reason saying why/);
      const erased = await entitle(
        as(admin),
        'subject',
        'erase',
        '--application',
        canaryInput.applicationId,
        '--reason',
        'erasure request 2026-118',
      );
      assert.equal(erased.code, 0, erased.stderr);
      assert.match(erased.stdout, /^erased the inputs of 1 decision, /);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await t.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('works out the purge cut-off from a date or the retention period', () => {
    assert.equal(purgeCutoff({ before: '2019-04-06' }), '2019-04-06T00:00:00.000Z');
    assert.equal(purgeCutoff({ retentionDays: '30' }, new Date('2026-11-22T00:00:00Z')), '2026-10-23T00:00:00.000Z');
    assert.throws(() => purgeCutoff({}), /say which decisions to purge/);
    assert.throws(() => purgeCutoff({ before: '06/04/2019' }), /--before must be a date/);
  });
});

describe('serve settings', () => {
  it('reads rate limits by role and names every bad one', async () => {
    const { parseRateLimits } = await import('./commands/serve.ts');
    assert.deepEqual(parseRateLimits('assessor=100000, caseworker=60'), { assessor: 100000, caseworker: 60 });
    assert.throws(
      () => parseRateLimits('assessor=lots,boss=5'),
      (error: unknown) => (error as { problems: unknown[] }).problems.length === 2,
    );
  });
});
