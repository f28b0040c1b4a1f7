import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { seedActiveVersions } from '../releases/index.ts';
import {
  beforeUprating,
  compile,
  GOLDEN_SINGLE as golden,
  runEntitle,
  taper,
  testDatabases,
  ucBundle,
  uprating,
  writeRuleSetDir,
} from '../testing/index.ts';

describe('release commands', { timeout: 120_000 }, () => {
  it('create, status, the two-person rule and rollback, with exit statuses a script can act on', async () => {
    const t = await testDatabases.postgres();
    const dir = await mkdtemp(join(tmpdir(), 'entitle-release-'));
    try {
      const bundle = await ucBundle();
      await seedActiveVersions(t.db, [compile(beforeUprating(bundle)).program]);
      const env = { DATABASE_URL: t.url!, ENTITLE_ACTOR: 'alice' };
      const good = await writeRuleSetDir(join(dir, 'uprating'), uprating(bundle), { 'single.yaml': golden });
      const expect = join(dir, 'expect.yaml');
      await writeFile(
        expect,
        'changes:\n  - variable: standardAllowance\n    direction: rise\n    maxPercent: 7\n    why: 2026/27 uprating\n',
      );

      const created = await runEntitle(
        [
          'release',
          'create',
          '--benefit',
          'universal-credit',
          '--rules',
          good,
          '--summary',
          'April 2026 uprating',
          '--expect',
          expect,
          '--effective',
          '2026-04-06',
          '--json',
        ],
        env,
      );
      assert.equal(created.code, 0, created.stderr);
      const release = JSON.parse(created.stdout) as { id: string; state: string; effectiveAt: string };
      assert.equal(release.state, 'validated');
      assert.equal(release.effectiveAt, '2026-04-05T23:00:00.000Z');

      const badExpect = join(dir, 'bad.yaml');
      await writeFile(badExpect, 'changes:\n  - variable: standardAlowance\n    why: typo\n');
      const typo = await runEntitle(
        [
          'release',
          'create',
          '--benefit',
          'universal-credit',
          '--rules',
          good,
          '--summary',
          's',
          '--expect',
          badExpect,
          '--effective',
          '2026-04-06',
        ],
        env,
      );
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /bad\.yaml:2:15: standardAlowance is not a variable of uk-universal-credit/);

      const shadow = await runEntitle(['release', 'shadow', release.id, '--percent', '10', '--preview'], env);
      assert.equal(shadow.code, 0, shadow.stderr);
      assert.match(shadow.stdout, /state {8}shadow \(10% of assessments compared, previewed at the effective date\)/);

      const self = await runEntitle(['release', 'approve', release.id], env);
      assert.equal(self.code, 6);
      assert.match(self.stderr, /ENTITLE_RELEASE_APPROVAL_REQUIRED: alice wrote this release and cannot approve it/);
      const approved = await runEntitle(['release', 'approve', release.id, '--reason', 'read the shadow report'], {
        ...env,
        ENTITLE_ACTOR: 'bob',
      });
      assert.equal(approved.code, 0, approved.stderr);

      const early = await runEntitle(['release', 'promote', release.id], { ...env, ENTITLE_ACTOR: 'bob' });
      assert.equal(early.code, 6);
      assert.match(
        early.stderr,
        /ENTITLE_RELEASE_GATE_CLOSED: the gates say inconclusive\n {2}gates: 0 comparisons so far; at least 1000 are needed/,
      );

      const status = await runEntitle(['release', 'status', release.id], env);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /approved by {2}bob: read the shadow report/);
      assert.match(status.stdout, /release\.shadow +alice: shadow evaluation/);

      const noReason = await runEntitle(['release', 'rollback', release.id], env);
      assert.equal(noReason.code, 2);
      assert.match(noReason.stderr, /--reason: give --reason saying why it is rolled back/);
      const rolled = await runEntitle(['release', 'rollback', release.id, '--reason', 'testing'], env);
      assert.equal(rolled.code, 0, rolled.stderr);
      assert.match(rolled.stdout, /state {8}rolled-back/);

      const list = await runEntitle(['release', 'list'], env);
      assert.match(list.stdout, new RegExp(`${release.id}  universal-credit  rolled-back  alice  April 2026 uprating`));

      // A candidate whose golden tests fail is rejected, and the command says which.
      const failing = await writeRuleSetDir(join(dir, 'taper'), taper(bundle, '56%'), {
        'single.yaml': { ...golden, cases: [{ ...golden.cases[0]!, expect: { amount: 1 } }] },
      });
      const rejected = await runEntitle(
        [
          'release',
          'create',
          '--benefit',
          'universal-credit',
          '--rules',
          failing,
          '--summary',
          'taper',
          '--effective',
          '2026-04-06',
        ],
        env,
      );
      assert.equal(rejected.code, 1);
      assert.match(rejected.stderr, /rejected: 1 of 1 golden tests fail/);

      const verify = await runEntitle(['audit', 'verify'], env);
      assert.equal(verify.code, 0, verify.stderr);
      assert.match(verify.stdout, /verified \d+ audit events against \d+ signed checkpoints?: the audit log is intact/);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await t.drop();
    }
  });
});
