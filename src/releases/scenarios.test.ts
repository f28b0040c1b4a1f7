// The three release scenarios, end to end against PostgreSQL: the real `entitle serve` process
// takes assessments over HTTP while the real `entitle release` commands move releases along, as
// a policy team and an operator would.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listIncidents } from '../incidents/index.ts';
import { createKey, type Role } from '../keys/index.ts';
import {
  beforeUprating,
  compile,
  eventually,
  GOLDEN_SINGLE,
  household,
  runEntitle,
  spawnServer,
  taper,
  testDatabases,
  ucBundle,
  uprating,
  UPRATING_DECLARATION,
  writeRuleSetDir,
  type ServerProcess,
  type TestDatabase,
} from '../testing/index.ts';

interface Decided {
  readonly applicationId: string;
  readonly hash: string;
  readonly pence: number;
}

interface Status {
  release: { state: string };
  stats: { identical: number; expected: number; unexpected: number; firstUnexpectedAt: string | null };
  gates: { verdict: string; reasons: string[] };
  steps: { action: string; actor: string; at: string; reason: string; evidence: Record<string, unknown> }[];
}

/** The people of the scenarios, each with their own key and roles. */
const PEOPLE = {
  alice: ['policy-author', 'operator'],
  bob: ['approver'],
  carol: ['operator'],
  mallory: ['policy-author'],
  anyone: ['auditor'],
} as const satisfies Record<string, readonly Role[]>;
type Person = keyof typeof PEOPLE;

class Scenario {
  readonly people = new Map<Person, string>();

  constructor(
    readonly t: TestDatabase,
    readonly server: ServerProcess,
    readonly key: string,
    readonly dir: string,
  ) {}

  async withPeople(): Promise<this> {
    for (const [who, roles] of Object.entries(PEOPLE))
      this.people.set(who as Person, (await createKey(this.t.db, `${who}-key`, [...roles], 'test', who)).key);
    return this;
  }

  /** The command line as that person runs it: through the service, with their own key. */
  async entitle(who: Person, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return runEntitle(args, { ENTITLE_URL: this.server.url, ENTITLE_API_KEY: this.people.get(who)! });
  }

  async create(actor: Person, name: string, rulesDir: string, expect?: string): Promise<string> {
    const args = [
      'release',
      'create',
      '--benefit',
      'universal-credit',
      '--rules',
      rulesDir,
      '--summary',
      name,
      '--effective',
      '2026-04-06',
      '--json',
    ];
    if (expect) {
      const file = join(this.dir, `${name.replaceAll(' ', '-')}.yaml`);
      await writeFile(file, expect);
      args.push('--expect', file);
    }
    const created = await this.entitle(actor, ...args);
    assert.equal(created.code, 0, created.stderr);
    const release = JSON.parse(created.stdout) as { id: string; state: string };
    assert.equal(release.state, 'validated');
    return release.id;
  }

  async status(id: string): Promise<Status> {
    const result = await this.entitle('anyone', 'release', 'status', id, '--json');
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as Status;
  }

  /** Sends the households numbered `from` to `from + count - 1`, eight at a time. */
  async assess(from: number, count: number): Promise<Decided[]> {
    const decided: Decided[] = [];
    let next = from;
    const worker = async () => {
      while (next < from + count) {
        const body = household(next++);
        const response = await fetch(`${this.server.url}/v1/assessments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.key}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const json = (await response.json()) as { ruleset: { hash: string }; outcome: { amount: number } };
        assert.equal(response.status, 201, JSON.stringify(json));
        decided.push({
          applicationId: body.applicationId,
          hash: json.ruleset.hash,
          pence: Math.round(json.outcome.amount * 100),
        });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return decided;
  }

  async serving(): Promise<string> {
    const body = (await (await fetch(`${this.server.url}/version`)).json()) as {
      rules: Record<string, { hash: string }>;
    };
    return body.rules['universal-credit']!.hash;
  }

  until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    return eventually(what, check, timeoutMs, 200);
  }
}

describe('release scenarios end to end on PostgreSQL', { timeout: 300_000 }, () => {
  it('(a) uprating passes shadow and is promoted by a second person; (b) a silent taper change is rolled back on its own; (c) a bad release rolled back leaves an exact worklist', async (context) => {
    const t = await testDatabases.postgres();
    const dir = await mkdtemp(join(tmpdir(), 'entitle-scenarios-'));
    let server: ServerProcess | undefined;
    try {
      const bundle = await ucBundle();
      const rules = join(dir, 'active');
      await writeRuleSetDir(join(rules, 'uk-universal-credit'), beforeUprating(bundle), {
        'single.yaml': GOLDEN_SINGLE,
      });
      server = await spawnServer({ DATABASE_URL: t.url! }, [], ['--rules', rules]);
      const s = await new Scenario(
        t,
        server,
        (await createKey(t.db, 'scenario-front-end', ['assessor'])).key,
        dir,
      ).withPeople();
      const before = compile(beforeUprating(bundle));
      const upratedBundle = uprating(bundle);
      const uprated = compile(upratedBundle);
      assert.equal(await s.serving(), before.hash);

      // (a) The April 2026 uprating: previewed at its effective date in shadow, every difference
      // is declared; the author cannot approve it; a second person approves and promotes it.
      const a = await s.create(
        'alice',
        'April 2026 uprating',
        await writeRuleSetDir(join(dir, 'a', 'uk-universal-credit'), upratedBundle, { 'single.yaml': GOLDEN_SINGLE }),
        UPRATING_DECLARATION,
      );
      assert.equal(
        (
          await s.entitle(
            'alice',
            'release',
            'shadow',
            a,
            '--percent',
            '100',
            '--preview',
            '--reason',
            'preview the uprating',
          )
        ).code,
        0,
      );
      await s.until(
        'the shadow comparisons of the uprating to reach the server',
        async () => ((await s.status(a)).release.state === 'shadow' ? true : undefined),
        5_000,
      );
      await s.assess(0, 1_100);
      const passed = await s.until(
        'the uprating to pass its gates',
        async () => {
          const st = await s.status(a);
          return st.gates.verdict === 'pass' ? st : undefined;
        },
        30_000,
      );
      assert.equal(passed.stats.unexpected, 0);
      assert.ok(passed.stats.expected > 500, `${passed.stats.expected} expected differences`);
      assert.equal((await s.entitle('alice', 'release', 'approve', a)).code, 6);
      assert.equal((await s.entitle('bob', 'release', 'approve', a, '--reason', 'read the shadow report')).code, 0);
      const promoted = await s.entitle('bob', 'release', 'promote', a, '--reason', 'uprating approved');
      assert.equal(promoted.code, 0, promoted.stderr);
      assert.match(promoted.stdout, /state {8}active/);
      await s.until(
        'the server to serve the uprating',
        async () => ((await s.serving()) === uprated.hash ? true : undefined),
        1_000,
      );

      // (b) The taper moved from 55% to 56% with nothing declared: caught in shadow and rolled
      // back by the service within 60 s of its first unexpected difference, before any citizen
      // decision was made with it.
      const taperBundle = taper(upratedBundle, '56%');
      const b = await s.create(
        'mallory',
        'tidy the taper parameters',
        await writeRuleSetDir(join(dir, 'b', 'uk-universal-credit'), taperBundle, { 'single.yaml': GOLDEN_SINGLE }),
      );
      assert.equal((await s.entitle('mallory', 'release', 'shadow', b, '--percent', '100')).code, 0);
      await new Promise((r) => setTimeout(r, 500));
      const duringB = await s.assess(2_000, 1_100);
      assert.ok(
        duringB.every((d) => d.hash === uprated.hash),
        'citizens got the active version throughout',
      );
      const rolledBack = await s.until(
        'the automatic rollback',
        async () => {
          const st = await s.status(b);
          return st.release.state === 'rolled-back' ? st : undefined;
        },
        60_000,
      );
      const rollback = rolledBack.steps.find((e) => e.action === 'release.rolled_back')!;
      assert.equal(rollback.actor, 'entitle');
      assert.match(
        rollback.reason,
        /^automatic rollback: \d+ of \d+ comparisons (\([\d.]+%\) )?differ unexpectedly(; the limit is 0\.1%|, more than the 0\.1% limit allows in the minimum sample of 1000)$/,
      );
      const firstUnexpected = Date.parse(rolledBack.stats.firstUnexpectedAt!);
      const delay = Date.parse(rollback.at) - firstUnexpected;
      assert.ok(delay >= 0 && delay < 60_000, `rolled back ${delay} ms after the first unexpected difference`);
      context.diagnostic(`(b) rolled back ${delay} ms after the first unexpected difference`);
      const taperHash = compile(taperBundle).hash;
      const { rows } = await t.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM decisions WHERE ruleset_hash = $1 OR release_id = $2',
        [taperHash, b],
      );
      assert.equal(rows[0]!.n, 0, 'no citizen decision was made with the taper change');
      assert.equal(await s.serving(), uprated.hash);
      // The rollback opened an incident, once, sized from the data: shadow only, so P3.
      const opened = await s.until(
        'the rollback incident',
        async () => (await listIncidents(t.db)).find((i) => i.releaseIds.includes(b)),
        10_000,
      );
      assert.equal(opened.source, 'release-rollback');
      assert.equal(opened.priority, 'P3');
      assert.deepEqual(opened.benefits, ['universal-credit']);
      assert.equal((await listIncidents(t.db)).filter((i) => i.releaseIds.includes(b)).length, 1);

      // (c) A bad release (a 57% taper, declared, so it passes its gates) promoted on purpose
      // through a canary, then rolled back: the worklist lists exactly the applications it
      // decided whose award the version now active sets differently, by exactly that much.
      const badBundle = taper(upratedBundle, '57%');
      const bad = compile(badBundle);
      const c = await s.create(
        'alice',
        'taper to 57 percent',
        await writeRuleSetDir(join(dir, 'c', 'uk-universal-credit'), badBundle, { 'single.yaml': GOLDEN_SINGLE }),
        'changes:\n  - variable: earnedIncomeDeduction\n    direction: rise\n    why: the taper rises to 57%\n',
      );
      assert.equal((await s.entitle('alice', 'release', 'shadow', c, '--percent', '100')).code, 0);
      await new Promise((r) => setTimeout(r, 500));
      await s.assess(4_000, 1_100);
      await s.until(
        'the bad release to pass its gates',
        async () => ((await s.status(c)).gates.verdict === 'pass' ? true : undefined),
        30_000,
      );
      assert.equal((await s.entitle('alice', 'release', 'canary', c, '--percent', '50')).code, 0);
      await new Promise((r) => setTimeout(r, 500));
      const inCanary = await s.assess(6_000, 300);
      const byBad = inCanary.filter((d) => d.hash === bad.hash).length;
      assert.ok(byBad > 90 && byBad < 210, `${byBad} of 300 decided by a 50% canary`);
      assert.equal((await s.entitle('bob', 'release', 'approve', c, '--reason', 'go')).code, 0);
      assert.equal((await s.entitle('bob', 'release', 'promote', c, '--reason', 'on purpose')).code, 0);
      await s.until(
        'the server to serve the bad release',
        async () => ((await s.serving()) === bad.hash ? true : undefined),
        1_000,
      );
      const whileActive = await s.assess(7_000, 300);
      assert.ok(whileActive.every((d) => d.hash === bad.hash));
      const rolled = await s.entitle('carol', 'release', 'rollback', c, '--reason', 'the taper was never agreed');
      assert.equal(rolled.code, 0, rolled.stderr);
      await s.until(
        'the server to return to the uprating',
        async () => ((await s.serving()) === uprated.hash ? true : undefined),
        1_000,
      );

      const expected = new Map<string, number>();
      for (const d of [...inCanary, ...whileActive]) {
        if (d.hash !== bad.hash) continue;
        const now = Math.round(uprated.assess(household(Number(d.applicationId.slice(5)))).outcome.amount * 100);
        if (now !== d.pence) expected.set(d.applicationId, now - d.pence);
      }
      assert.ok(expected.size > 50, `${expected.size} applications to correct`);
      const out = join(dir, 'worklists');
      const affected = await s.entitle('carol', 'release', 'affected', c, '--out', out);
      assert.equal(affected.code, 0, affected.stderr);
      const worklist = JSON.parse(await readFile(join(out, `worklist-${c}.json`), 'utf8')) as {
        entries: { applicationId: string; changePence: number; action: string }[];
        underpaid: number;
        entitlementChanged: number;
        totalUnderpaidPence: number;
      };
      assert.deepEqual(new Map(worklist.entries.map((e) => [e.applicationId, e.changePence])), expected);
      assert.ok(
        worklist.entries.every((e) => e.changePence > 0),
        'a higher taper only ever underpays',
      );
      assert.ok(
        worklist.entries.every((e) => e.action === 'pay arrears' || e.action === 'review entitlement'),
        'underpaid citizens are paid, or their entitlement reviewed',
      );
      assert.equal(worklist.underpaid + worklist.entitlementChanged, expected.size);
      assert.equal(
        worklist.totalUnderpaidPence,
        [...expected.values()].reduce((a, b) => a + b, 0),
      );
      assert.match(affected.stdout, new RegExp(`  ${worklist.underpaid} to pay arrears\n`));
      const csv = (await readFile(join(out, `worklist-${c}.csv`), 'utf8')).trimEnd().split('\r\n');
      assert.equal(
        csv[0],
        'applicationId,decisionId,decidedAt,assessmentDate,entitledThen,awardThen,entitledNow,awardNow,change,action',
      );
      assert.equal(csv.length, expected.size + 1);

      const verify = await runEntitle(['audit', 'verify'], { DATABASE_URL: t.url! });
      assert.equal(verify.code, 0, verify.stderr);
    } finally {
      server?.child.kill('SIGTERM');
      await server?.exited;
      await t.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
