import assert from 'node:assert/strict';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createKey } from '../keys/index.ts';
import { seedActiveVersions } from '../releases/index.ts';
import {
  beforeUprating,
  CHRISTMAS_FREEZE,
  compile,
  GOLDEN_SINGLE as golden,
  runEntitle,
  spawnServer,
  taper,
  testDatabases,
  ucBundle,
  uprating,
  writeRuleSetDir,
} from '../testing/index.ts';

describe('release commands', { timeout: 120_000 }, () => {
  it('go through the service as the person holding the key: create, status, the two-person rule under any key, rollback, freeze windows', async () => {
    const t = await testDatabases.postgres();
    const dir = await mkdtemp(join(tmpdir(), 'entitle-release-'));
    const bundle = await ucBundle();
    await seedActiveVersions(t.db, [compile(beforeUprating(bundle)).program]);
    const server = await spawnServer({ DATABASE_URL: t.url!, ENTITLE_SHADOW_MIN_MINUTES: '45' });
    try {
      const everything = ['policy-author', 'approver', 'operator'] as const;
      const keys = {
        alice: (await createKey(t.db, 'alice-laptop', [...everything], 'test', 'Alice Smith')).key,
        // The same person under a second key and another spelling is still the author.
        alicePhone: (
          await createKey(t.db, 'alice-phone', ['approver'], 'test', 'ALICE  SMITH', { existingPerson: true })
        ).key,
        bob: (await createKey(t.db, 'bob-laptop', ['approver'], 'test', 'Bob Jones')).key,
      };
      const as = (who: keyof typeof keys) => ({ ENTITLE_URL: server.url, ENTITLE_API_KEY: keys[who] });
      const entitle = (who: keyof typeof keys, ...args: string[]) => runEntitle(args, as(who));

      const good = await writeRuleSetDir(join(dir, 'uprating'), uprating(bundle), { 'single.yaml': golden });
      const expect = join(dir, 'expect.yaml');
      await writeFile(
        expect,
        'changes:\n  - variable: standardAllowance\n    direction: rise\n    maxPercent: 7\n    why: 2026/27 uprating\n',
      );
      const create = (rules: string, summary: string, ...more: string[]) => [
        'release',
        'create',
        '--benefit',
        'universal-credit',
        '--rules',
        rules,
        '--summary',
        summary,
        '--effective',
        '2026-04-06',
        ...more,
      ];

      const created = await entitle('alice', ...create(good, 'April 2026 uprating', '--expect', expect, '--json'));
      assert.equal(created.code, 0, created.stderr);
      const release = JSON.parse(created.stdout) as { id: string; state: string; effectiveAt: string; author: string };
      assert.equal(release.state, 'validated');
      assert.equal(release.effectiveAt, '2026-04-05T23:00:00.000Z');
      assert.equal(release.author, 'Alice Smith', 'the author is the person holding the key, never a typed name');

      const badExpect = join(dir, 'bad.yaml');
      await writeFile(badExpect, 'changes:\n  - variable: standardAlowance\n    why: typo\n');
      const typo = await entitle('alice', ...create(good, 's', '--expect', badExpect));
      assert.equal(typo.code, 2, typo.stderr);
      assert.match(typo.stderr, /bad\.yaml:2:15: standardAlowance is not a variable of uk-universal-credit/);

      const broken = await writeRuleSetDir(join(dir, 'broken'), uprating(bundle), { 'single.yaml': golden });
      await writeFile(join(broken, 'parameters.yaml'), 'parameters:\n  - nonsense\n');
      const invalid = await entitle('alice', ...create(broken, 'broken'));
      assert.equal(invalid.code, 4, invalid.stderr);
      assert.match(invalid.stderr, /ENTITLE_CANDIDATE_INVALID/);
      assert.match(invalid.stderr, new RegExp(`${join(broken, 'parameters.yaml').replaceAll('/', '\\/')}`));
      assert.doesNotMatch(invalid.stderr, /entitle-candidate-/, "the service's temporary folder is never shown");

      const shadow = await entitle('alice', 'release', 'shadow', release.id, '--percent', '10', '--preview');
      assert.equal(shadow.code, 0, shadow.stderr);
      assert.match(shadow.stdout, /state {8}shadow \(10% of assessments compared, previewed at the effective date\)/);

      for (const who of ['alice', 'alicePhone'] as const) {
        const self = await entitle(who, 'release', 'approve', release.id);
        assert.equal(self.code, 6, self.stderr);
        assert.match(
          self.stderr,
          /ENTITLE_RELEASE_APPROVAL_REQUIRED: Alice Smith wrote this release and cannot approve it/,
        );
      }
      const approved = await entitle('bob', 'release', 'approve', release.id, '--reason', 'read the shadow report');
      assert.equal(approved.code, 0, approved.stderr);

      const early = await entitle('bob', 'release', 'promote', release.id);
      assert.equal(early.code, 6);
      assert.match(
        early.stderr,
        /ENTITLE_RELEASE_GATE_CLOSED: the gates say inconclusive[^\n]*\n {2}gates: 0 comparisons so far; at least 1000 are needed/,
      );

      const status = await entitle('bob', 'release', 'status', release.id);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /approved by {2}Bob Jones: read the shadow report/);
      assert.match(status.stdout, /release\.shadow +Alice Smith: shadow evaluation/);
      assert.match(status.stdout, /shadow {7}45 minutes from .*: (45|44) minutes left, until /);

      // The engine check, through the service: nothing recorded here yet, so nothing differs.
      const replay = await entitle('alice', 'replay', '--sample', '5', '--since', '2020-01-01');
      assert.equal(replay.code, 0, replay.stderr);
      assert.match(replay.stdout, /^replayed 0 recorded decisions since 2020-01-01 with entitle [\d.]+, from 0 strata/);
      const badSample = await entitle('alice', 'replay', '--sample', '0');
      assert.equal(badSample.code, 2);
      assert.match(badSample.stderr, /--sample: give a number from 1 to 100,000/);

      const noReason = await entitle('alice', 'release', 'rollback', release.id);
      assert.equal(noReason.code, 2);
      assert.match(noReason.stderr, /--reason: give --reason saying why it is rolled back/);
      const notOperator = await entitle('bob', 'release', 'rollback', release.id, '--reason', 'testing');
      assert.equal(notOperator.code, 6, 'the service checks the key holds the role');
      const rolled = await entitle('alice', 'release', 'rollback', release.id, '--reason', 'testing');
      assert.equal(rolled.code, 0, rolled.stderr);
      assert.match(rolled.stdout, /state {8}rolled-back/);
      // Its worklist (it decided nothing in shadow) goes to the data directory named, and says where.
      const affected = await entitle('alice', 'release', 'affected', release.id, '--data-dir', join(dir, 'data'));
      assert.equal(affected.code, 0, affected.stderr);
      const worklist = join(dir, 'data', 'worklists', `worklist-${release.id}.csv`);
      assert.ok(affected.stdout.includes(worklist), affected.stdout);
      await access(worklist);

      const list = await entitle('bob', 'release', 'list');
      assert.match(
        list.stdout,
        new RegExp(`${release.id}  universal-credit  rolled-back  Alice Smith  April 2026 uprating`),
      );

      // A candidate whose golden tests fail is rejected, and the command says which, in its own files.
      const failing = await writeRuleSetDir(join(dir, 'taper'), taper(bundle, '56%'), {
        'single.yaml': { ...golden, cases: [{ ...golden.cases[0]!, expect: { amount: 1 } }] },
      });
      const rejected = await entitle('alice', ...create(failing, 'taper'));
      assert.equal(rejected.code, 1);
      assert.match(rejected.stderr, /rejected: 1 of 1 golden tests fail/);
      assert.match(rejected.stderr, new RegExp(`${join(failing, 'tests', 'single.yaml').replaceAll('/', '\\/')}:\\d+`));

      const frozen = await entitle('bob', ...CHRISTMAS_FREEZE);
      assert.equal(frozen.code, 0, frozen.stderr);
      assert.match(frozen.stdout, /frozen from 22 December 2026 .* Christmas payment run/);
      const windows = await entitle('alice', 'release', 'freeze', 'list', '--json');
      assert.equal((JSON.parse(windows.stdout) as { reason: string }[])[0]?.reason, 'Christmas payment run');

      const { rows } = await t.db.query<{ actor: string }>(
        "SELECT actor FROM audit_events WHERE action = 'freeze.added'",
      );
      assert.deepEqual(
        rows.map((r) => r.actor),
        ['Bob Jones'],
      );

      const verify = await runEntitle(['audit', 'verify'], { DATABASE_URL: t.url! });
      assert.equal(verify.code, 0, verify.stderr);
      assert.match(verify.stdout, /verified \d+ audit events against \d+ signed checkpoints?: the audit log is intact/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await rm(dir, { recursive: true, force: true });
      await t.drop();
    }
  });
});
