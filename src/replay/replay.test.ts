import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { household, testService, type TestService } from '../testing/index.ts';
import { ReplayRuleSets, replaySample, ReplayWatch, type ReplaySampleReport } from './index.ts';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('replaying a sample of recorded decisions with the running build', () => {
  let service: TestService;
  before(async () => {
    service = await testService();
    // Working households (earnings vary, with pence: some entitled, some not), and Child Benefit claims.
    for (let n = 1; n <= 40; n++) {
      const uc = household(n);
      const adult = {
        ...uc.household.adults[0]!,
        monthlyNetEarnings: (uc.household.adults[0]!.monthlyNetEarnings * 100 + n * 7) / 100,
      };
      const input = {
        ...uc,
        household: { ...uc.household, adults: [adult], ...(n % 4 === 0 ? { capital: 20000 } : {}) },
      };
      const made = await service.app.inject({
        method: 'POST',
        url: '/v1/assessments',
        headers: bearer(service.keys.assessor),
        payload: input,
      });
      assert.equal(made.statusCode, 201, made.body);
    }
    for (let n = 1; n <= 6; n++) {
      const made = await service.app.inject({
        method: 'POST',
        url: '/v1/assessments',
        headers: bearer(service.keys.assessor),
        payload: {
          benefit: 'child-benefit',
          applicationId: `CB-${n}`,
          assessmentDate: '2025-06-01',
          household: {
            adults: [{ annualAdjustedNetIncome: 20000 * n }],
            children: n === 6 ? [] : [{ dateOfBirth: '2019-03-02' }],
          },
        },
      });
      assert.equal(made.statusCode, 201, made.body);
    }
  });
  after(() => service.close());

  it('finds every recorded decision made the same, sampling every benefit, version and outcome, and records the check', async () => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/v1/replays',
      headers: bearer(service.keys.operator),
      payload: { sample: 12, since: '2020-01-01' },
    });
    assert.equal(response.statusCode, 200, response.body);
    const check = response.json<ReplaySampleReport>();
    assert.deepEqual(check.strata.map((s) => `${s.benefit} ${s.entitled}`).sort(), [
      'child-benefit false',
      'child-benefit true',
      'universal-credit false',
      'universal-credit true',
    ]);
    assert.ok(check.strata.every((s) => s.sampled >= 1));
    assert.equal(check.sampled, 12);
    assert.deepEqual([check.matched, check.mismatched], [12, []]);
    const { rows } = await service.db.query<{ actor: string; reason: string }>(
      "SELECT actor, reason FROM audit_events WHERE action = 'decisions.replay_checked'",
    );
    assert.match(rows.at(-1)!.reason, /^12 recorded decisions since 2020-01-01 replayed: 0 made differently$/);
    assert.equal(
      (
        await service.app.inject({
          method: 'POST',
          url: '/v1/replays',
          headers: bearer(service.keys.assessor),
          payload: {},
        })
      ).statusCode,
      403,
    );
    const badDate = await service.app.inject({
      method: 'POST',
      url: '/v1/replays',
      headers: bearer(service.keys.operator),
      payload: { since: '2026-02-30' },
    });
    assert.equal(badDate.statusCode, 400);
    assert.match(badDate.body, /"field":"since"/);
  });

  it('catches a build whose engine rounds differently, naming each decision and what differs', async () => {
    // A deliberate change to one engine function: money times a rate rounded down, not to the
    // nearest penny (UC Regulations reg. 6). The rules are the same; the answers are not.
    const changedEngine = new ReplayRuleSets(service.db, new Map(), {
      mulRate: (pence: number, ppm: number) => Math.floor((pence * ppm) / 1_000_000),
    });
    const check = await replaySample(service.db, changedEngine, {
      sample: 100,
      since: '2020-01-01',
      actor: 'test',
    });
    assert.equal(check.sampled, 46, 'a sample larger than the record takes all of it');
    assert.ok(check.mismatched.length > 0, 'the changed rounding is caught');
    assert.ok(check.mismatched.every((m) => m.benefit === 'universal-credit'));
    assert.ok(
      check.mismatched.some((m) => m.paths.includes('outcome.amount')),
      JSON.stringify(check.mismatched[0]),
    );
    assert.equal(check.matched + check.mismatched.length, 46);
  });

  it('replays recent decisions in the background with this build, and says when one is made differently', async () => {
    const seen: string[] = [];
    const mismatches: string[] = [];
    const watch = (engine?: ConstructorParameters<typeof ReplayRuleSets>[2]) =>
      new ReplayWatch(service.db, new ReplayRuleSets(service.db, new Map(), engine), {
        replayed: (result) => seen.push(result),
        allowed: () => true,
        mismatch: (id) => mismatches.push(id),
      });
    const same = watch();
    for (let i = 0; i < 10; i++) assert.equal(await same.tick(), true);
    assert.deepEqual(seen, Array(10).fill('match'));
    const changed = watch({ mulRate: (pence: number, ppm: number) => Math.floor((pence * ppm) / 1_000_000) });
    for (let i = 0; i < 46; i++) await changed.tick();
    assert.ok(seen.includes('mismatch') && mismatches.length > 0, 'a build that rounds differently is caught');
    assert.equal(await changed.tick(), false, 'after the last day it starts again from the newest');
  });

  it('runs in every instance of the service, counted by source', async () => {
    const watched = await testService({ replayWatchMs: 20 });
    try {
      const made = await watched.app.inject({
        method: 'POST',
        url: '/v1/assessments',
        headers: bearer(watched.keys.assessor),
        payload: household(1),
      });
      assert.equal(made.statusCode, 201);
      let metrics = '';
      for (let i = 0; i < 100 && !/source="background"/.test(metrics); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        metrics = (await watched.app.inject({ url: '/metrics' })).body;
      }
      assert.match(metrics, /entitle_replays_total\{result="match",source="background"\} [1-9]/);
    } finally {
      await watched.close();
    }
  });
});
