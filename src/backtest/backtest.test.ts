import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { auditEventsFor } from '../audit/index.ts';
import { NO_CHANGES } from '../comparison/index.ts';
import { DecisionWriter } from '../decisions/index.ts';
import { EntitleError } from '../errors/index.ts';
import { createKey } from '../keys/index.ts';
import { createRelease } from '../releases/index.ts';
import type { RuleSet, RuleSetBundle } from '../rules/index.ts';
import { recordDecisions, simulate, simulationOptions, type AssessmentRequest } from '../simulate/index.ts';
import {
  compile,
  runEntitle,
  spawnServer,
  taper,
  testDatabases,
  ucBundle,
  type TestDatabase,
} from '../testing/index.ts';
import { backtest, type BacktestReport } from './index.ts';

const DECISIONS = 2_000;
const PURGED = 10;

/**
 * Worked by hand: a single claimant of 30 with £1,000.00 earnings and £600.00 rent, no children,
 * so no work allowance. 55%: 400.14 + 600.00 - 550.00 = 450.14. 56%: 400.14 + 600.00 - 560.00 =
 * 440.14. The taper costs her £10.00 a month: 1,000 pence, in the £10 to under £50 band.
 */
const WORKED: AssessmentRequest = {
  benefit: 'universal-credit',
  applicationId: 'SYN-WORKED-1',
  assessmentDate: '2025-06-01',
  household: {
    adults: [
      {
        dateOfBirth: '1995-01-15',
        monthlyNetEarnings: 1000,
        limitedCapabilityForWorkRelatedActivity: false,
        lcwraProtected: false,
        carer: false,
      },
    ],
    children: [],
    monthlyEligibleHousingCosts: 600,
    nonDependants: 0,
    monthlyChildcareCosts: 0,
    capital: 0,
    monthlyUnearnedIncome: 0,
    livesInGreaterLondon: false,
  },
};

async function record(db: TestDatabase['db'], requests: Iterable<AssessmentRequest>, ruleSet: RuleSet): Promise<void> {
  const writer = new DecisionWriter(db);
  const { recorded, refused } = await recordDecisions(requests, ruleSet, writer);
  await writer.drain();
  assert.deepEqual(refused, {});
  assert.ok(recorded > 0);
}

/** The award changes worked out directly, decision by decision, without the backtest. */
function independently(inputs: readonly unknown[], active: RuleSet, candidate: RuleSet) {
  const pence = (ruleSet: RuleSet, input: unknown) => Math.round(ruleSet.assess(input, 'none').outcome.amount * 100);
  const changes = inputs.map((input) => pence(candidate, input) - pence(active, input));
  const deduction = (ruleSet: RuleSet, input: unknown) =>
    ruleSet.assess(input, 'none').outcome.details?.earnedIncomeDeduction;
  return {
    deductionDiffers: inputs.filter((input) => deduction(candidate, input) !== deduction(active, input)).length,
    losing: changes.filter((c) => c < 0).length,
    gaining: changes.filter((c) => c > 0).length,
    unchanged: changes.filter((c) => c === 0).length,
    total: changes.reduce((a, b) => a + b, 0),
    // The lower middle of the changes that are not zero, sorted.
    median: changes.filter((c) => c !== 0).sort((a, b) => a - b)[
      Math.floor((changes.filter((c) => c !== 0).length - 1) / 2)
    ],
    lossBands: [1, 100, 1_000, 5_000, 10_000, 50_000].map(
      (min, i, mins) => changes.filter((c) => -c >= min && -c < (mins[i + 1] ?? Infinity)).length,
    ),
  };
}

async function storedInputs(db: TestDatabase['db']): Promise<unknown[]> {
  const { rows } = await db.query<{ inputs: unknown }>(
    'SELECT inputs FROM decisions WHERE inputs IS NOT NULL ORDER BY id',
  );
  return rows.map((r) => r.inputs);
}

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`backtest on ${kind}`, { timeout: 180_000 }, () => {
    it('finds nothing for an identical candidate, the taper to the penny, and the same report with 1 or 2 workers', async () => {
      const t = await testDatabases[kind]();
      try {
        const bundle: RuleSetBundle = await ucBundle();
        const active = compile(bundle);
        const requests = [WORKED, ...simulate(simulationOptions({ seed: 11 }), DECISIONS - 1)];
        await record(t.db, requests, active);
        // The first decisions made lose their inputs under the retention policy.
        await t.db.query(
          `UPDATE decisions SET inputs = NULL, purged_at = $1 WHERE seq IN (SELECT seq FROM decisions ORDER BY seq OFFSET 1 LIMIT ${PURGED})`,
          [new Date().toISOString()],
        );

        const same = await backtest(t.db, {
          candidate: { bundle },
          expectations: NO_CHANGES,
          workers: 2,
          batchSize: 300,
        });
        assert.equal(same.report.decisions, DECISIONS);
        assert.equal(same.report.skipped, PURGED);
        assert.equal(same.report.compared, DECISIONS - PURGED);
        assert.equal(same.report.kinds.identical, DECISIONS - PURGED);
        assert.deepEqual(
          [same.report.awards.gaining, same.report.awards.losing, same.report.awards.unchanged],
          [0, 0, DECISIONS - PURGED],
        );
        assert.deepEqual(same.report.versions, [{ hash: active.hash, decisions: DECISIONS - PURGED }]);
        assert.deepEqual(same.report.variables, []);

        const candidate = compile(taper(bundle, '56%'));
        const progress: number[] = [];
        const runs: BacktestReport[] = [];
        for (const workers of [1, 2]) {
          const result = await backtest(t.db, {
            candidate: { bundle: candidate.program.bundle },
            expectations: NO_CHANGES,
            workers,
            batchSize: 250,
            onProgress: (p) => progress.push(p.total),
          });
          assert.equal(result.workers, workers);
          runs.push(result.report);
        }
        assert.deepEqual(runs[1], runs[0], 'one worker and two give the same report');
        assert.ok(progress.every((total) => total === DECISIONS));
        const report = runs[0]!;

        const expected = independently(await storedInputs(t.db), active, candidate);
        assert.equal(report.compared, DECISIONS - PURGED);
        // Every earner above the work allowance differs, unexpectedly, though some get nothing either way.
        assert.equal(report.kinds.unexpected, expected.deductionDiffers);
        assert.ok(expected.deductionDiffers > expected.losing);
        assert.equal(report.kinds.identical, DECISIONS - PURGED - expected.deductionDiffers);
        assert.deepEqual(
          [report.awards.gaining, report.awards.losing, report.awards.unchanged],
          [0, expected.losing, expected.unchanged],
        );
        assert.equal(report.awards.totalChangePence, expected.total);
        assert.deepEqual(
          report.awards.bands.map((b) => b.losing),
          expected.lossBands,
        );
        assert.equal(report.awards.medianChangePence, expected.median);
        assert.equal(report.awards.medianLossPence, -expected.median!);
        assert.equal(report.awards.medianGainPence, 0);
        assert.ok(expected.losing > 100, `${expected.losing} lose`);

        const top = report.variables[0]!;
        assert.equal(top.variable, 'earnedIncomeDeduction');
        assert.equal(top.unexpected, top.decisions);

        // The first decision is the hand-worked one.
        const first = report.examples.unexpected[0]!;
        assert.equal(first.applicationId, 'SYN-WORKED-1');
        assert.deepEqual([first.activeAwardPence, first.candidateAwardPence], [45014, 44014]);
        assert.ok(
          first.differences.some(
            (d) =>
              d.variable === 'earnedIncomeDeduction' &&
              d.cause === 'undeclared' &&
              d.active === 55000 &&
              d.candidate === 56000,
          ),
        );
        assert.equal(report.examples.unexpected.length, 5);
        const ids = report.examples.unexpected.map((e) => e.decisionId);
        assert.deepEqual([...ids].sort(), ids, 'examples are the earliest decisions');

        // The most recent N, and a window in time.
        const last = await backtest(t.db, {
          candidate: { bundle: candidate.program.bundle },
          expectations: NO_CHANGES,
          workers: 1,
          window: { last: 500 },
        });
        assert.equal(last.report.decisions, 500);
        const all = await backtest(t.db, {
          candidate: { bundle },
          expectations: NO_CHANGES,
          workers: 1,
          window: { from: '2020-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' },
        });
        assert.equal(all.report.decisions, DECISIONS);
        const none = await backtest(t.db, {
          candidate: { bundle },
          expectations: NO_CHANGES,
          workers: 1,
          window: { from: '2020-01-01T00:00:00Z', to: '2021-01-01T00:00:00Z' },
        });
        assert.equal(none.report.decisions, 0);
      } finally {
        await t.drop();
      }
    });

    it('compares each decision with the version that made it, unless told one version', async () => {
      const t = await testDatabases[kind]();
      try {
        const bundle = await ucBundle();
        const current = compile(bundle);
        const old = compile(taper(bundle, '56%'));
        const requests = [...simulate(simulationOptions({ seed: 5 }), 600)];
        await record(t.db, requests.slice(0, 300), old);
        await record(t.db, requests.slice(300), current);

        const recorded = await backtest(t.db, {
          candidate: { hash: current.hash },
          expectations: NO_CHANGES,
          workers: 2,
          batchSize: 100,
        });
        assert.deepEqual(
          recorded.report.versions,
          [
            { hash: old.hash, decisions: 300 },
            { hash: current.hash, decisions: 300 },
          ].sort((a, b) => (a.hash < b.hash ? -1 : 1)),
        );
        const earlier = independently(requests.slice(0, 300), old, current);
        assert.equal(recorded.report.awards.gaining, earlier.gaining, 'those decided at 56% gain at 55%');
        assert.equal(recorded.report.awards.losing, 0);

        const against = await backtest(t.db, {
          candidate: { hash: current.hash },
          expectations: NO_CHANGES,
          workers: 2,
          baselineHash: current.hash,
        });
        assert.equal(against.report.baseline, current.hash);
        assert.equal(against.report.kinds.identical, 600);
      } finally {
        await t.drop();
      }
    });

    it('fails, and stops its workers, when a recorded version cannot be compiled', async () => {
      const t = await testDatabases[kind]();
      try {
        const bundle = await ucBundle();
        const active = compile(bundle);
        await record(t.db, simulate(simulationOptions({ seed: 6 }), 50), active);
        await t.db.query(`UPDATE ruleset_versions SET bundle = '{"ruleset": {}}' WHERE hash = $1`, [active.hash]);
        const candidate = taper(bundle, '56%');
        await assert.rejects(
          backtest(t.db, { candidate: { bundle: candidate }, expectations: NO_CHANGES, workers: 2, batchSize: 10 }),
          (error: unknown) =>
            error instanceof EntitleError &&
            error.code === 'ENTITLE_RULESET_INVALID' &&
            /could not compare a batch: stored rule set sha256:\w+ does not compile/.test(error.message),
        );
      } finally {
        await t.drop();
      }
    });

    it('refuses options that are not valid', async () => {
      const t = await testDatabases[kind]();
      try {
        const bundle = await ucBundle();
        await assert.rejects(
          backtest(t.db, { candidate: { bundle }, expectations: NO_CHANGES, workers: 0, window: { last: -3 } }),
          /not valid/,
        );
      } finally {
        await t.drop();
      }
    });
  });
}

describe('the simulate and release backtest commands', { timeout: 180_000 }, () => {
  it('simulate writes NDJSON and records decisions; backtest reports, exits 1 on unexpected differences and records its evidence', async () => {
    const t = await testDatabases.postgres();
    try {
      const printed = await runEntitle(['simulate', '--households', '3', '--seed', '4'], {});
      assert.equal(printed.code, 0, printed.stderr);
      const lines = printed.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as AssessmentRequest);
      assert.deepEqual(lines, [...simulate(simulationOptions({ seed: 4 }), 3)]);
      assert.match(printed.stderr, /wrote 3 synthetic universal-credit requests \(seed 4/);

      // Recording and backtesting run in the service, as the person holding the key; progress streams back.
      const server = await spawnServer({ DATABASE_URL: t.url! });
      try {
        const key = (await createKey(t.db, 'alice-laptop', ['policy-author'], 'test', 'Alice Smith')).key;
        const as = { ENTITLE_URL: server.url, ENTITLE_API_KEY: key };
        const recorded = await runEntitle(['simulate', '--households', '400', '--seed', '4', '--record'], as);
        assert.equal(recorded.code, 0, recorded.stderr);
        assert.match(recorded.stderr, /recording: 400 of 400 \(100%\)/);
        assert.match(recorded.stderr, /recorded 400 decisions of 400 synthetic universal-credit requests/);
        const { rows } = await t.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM decisions WHERE application_id LIKE 'SYN-%'",
        );
        assert.equal(rows[0]!.n, 400);

        const bundle = await ucBundle();
        const candidate = compile(taper(bundle, '56%'));
        const release = await createRelease(t.db, {
          program: candidate.program,
          author: 'bob',
          summary: 'taper 56%',
          effectiveAt: '2026-12-01T00:00:00.000Z',
          expectations: NO_CHANGES,
          golden: { total: 1, failed: [] },
        });

        const json = await runEntitle(['release', 'backtest', release.id, '--json'], as);
        assert.equal(json.code, 1, json.stderr);
        const result = JSON.parse(json.stdout) as { release: string; workers: number; report: BacktestReport };
        assert.equal(result.release, release.id);
        assert.equal(result.workers, 1, 'one worker thread: the other core stays with citizens');
        assert.equal(result.report.compared, 400);
        assert.ok(result.report.kinds.unexpected > 0);

        const plain = await runEntitle(['release', 'backtest', release.id, '--last', '100'], as);
        assert.equal(plain.code, 1);
        assert.match(plain.stdout, /decisions {4}100 of universal-credit: the most recent 100 decisions/);
        assert.match(plain.stdout, /earnedIncomeDeduction .* \(undeclared\)/);
        assert.match(plain.stderr, /comparing: 100 of 100 \(100%\)/, 'progress reaches a log, not only a terminal');
        assert.match(plain.stderr, /differs unexpectedly on \d+ decisions/);

        const events = (await auditEventsFor(t.db, release.id)).filter((e) => e.action === 'release.backtested');
        assert.equal(events.length, 2);
        assert.equal(events[0]!.actor, 'Alice Smith');
        assert.equal((events[0]!.evidence as { compared: number }).compared, 400);
        assert.doesNotMatch(
          JSON.stringify(events[0]!.evidence),
          /SYN-/,
          'the audit chain keeps no application ids or values',
        );

        const wrong = await runEntitle(['release', 'backtest', release.id, '--last', '10', '--from', '2026-01-01'], as);
        assert.equal(wrong.code, 2);
        assert.match(wrong.stderr, /ENTITLE_INPUT_INVALID: give --last or a period, not both/);
        const unknown = await runEntitle(['release', 'backtest', 'REL-404'], as);
        assert.equal(unknown.code, 2, unknown.stderr);
        assert.match(unknown.stderr, /ENTITLE_RELEASE_NOT_FOUND/);
        const noKey = await runEntitle(['release', 'backtest', release.id], { ENTITLE_URL: server.url });
        assert.equal(noKey.code, 2);
        assert.match(noKey.stderr, /ENTITLE_UNAUTHENTICATED/);
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    } finally {
      await t.drop();
    }
  });
});
