import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EntitleError } from '../errors/index.ts';
import { loadRuleSet, type Assessment } from '../rules/index.ts';
import { DEFAULT_WINDOW, isSynthetic, simulate, simulationOptions, type AssessmentRequest } from './index.ts';

const rulesets = (id: string) => fileURLToPath(new URL(`../../rulesets/${id}`, import.meta.url));
const UC = simulationOptions({ benefit: 'universal-credit', seed: 20250407 });

interface Adult {
  dateOfBirth: string;
  monthlyNetEarnings: number;
  limitedCapabilityForWorkRelatedActivity: boolean;
  carer: boolean;
}
interface UcHousehold {
  adults: Adult[];
  children: { dateOfBirth: string; disability: string }[];
  monthlyEligibleHousingCosts: number;
  nonDependants: number;
  monthlyChildcareCosts: number;
  capital: number;
  monthlyUnearnedIncome: number;
  livesInGreaterLondon: boolean;
}

/** Asserts a share (in percent) is within `tolerance` points of the documented one. */
function near(label: string, count: number, of: number, percent: number, tolerance: number): void {
  const share = (100 * count) / of;
  assert.ok(
    Math.abs(share - percent) <= tolerance,
    `${label}: ${share.toFixed(2)}% (${count} of ${of}); documented ${percent}% +/- ${tolerance}`,
  );
}

describe('simulated households', () => {
  it('are the same for the same seed, differ for another, and a longer run extends a shorter one', () => {
    const a = [...simulate(UC, 200)];
    assert.deepEqual([...simulate(UC, 200)], a);
    assert.deepEqual([...simulate(UC, 50)], a.slice(0, 50));
    const other = [...simulate({ ...UC, seed: UC.seed + 1 }, 200)];
    assert.notDeepEqual(
      other.map((r) => r.household),
      a.map((r) => r.household),
    );
  });

  it('are always marked synthetic and dated within the window', () => {
    const window = simulationOptions({ seed: 3, from: '2025-05-01', to: '2025-05-31' });
    const ids = new Set<string>();
    for (const request of simulate(window, 2_000)) {
      assert.ok(
        isSynthetic(request.applicationId) && request.applicationId.startsWith('SYN-UC-3-'),
        request.applicationId,
      );
      assert.ok(
        request.assessmentDate >= '2025-05-01' && request.assessmentDate <= '2025-05-31',
        request.assessmentDate,
      );
      ids.add(request.applicationId);
    }
    assert.equal(ids.size, 2_000);
    const dates = new Set([...simulate(UC, 5_000)].map((r) => r.assessmentDate));
    assert.ok([...dates].every((d) => d >= DEFAULT_WINDOW.from && d <= DEFAULT_WINDOW.to));
    assert.ok(dates.size > 300, `assessment dates spread over the year: ${dates.size} distinct days`);
  });

  it('refuses options that are not valid, naming each', () => {
    assert.throws(
      () => simulationOptions({ benefit: 'pension-credit', seed: -1, from: '2025-13-01', to: '2025-01-01' }),
      (error: unknown) =>
        error instanceof EntitleError &&
        error.code === 'ENTITLE_INPUT_INVALID' &&
        error.problems.map((p) => p.field).join() === '--benefit,--seed,--from',
    );
    assert.throws(() => simulationOptions({ from: '2025-06-01', to: '2025-05-01' }), /not valid/);
  });

  it(
    '10,000 Universal Credit requests all assess with the bundled rule set, and the distributions hold',
    { timeout: 60_000 },
    async () => {
      const ruleSet = await loadRuleSet(rulesets('uk-universal-credit'));
      const requests: AssessmentRequest[] = [...simulate(UC, 10_000)];
      const outcomes: Assessment['outcome'][] = requests.map((r) => ruleSet.assess(r, 'none').outcome);
      const households = requests.map((r) => r.household as unknown as UcHousehold);
      const n = households.length;
      const adults = households.flatMap((h) => h.adults);
      const withChildren = households.filter((h) => h.children.length > 0);
      const children = withChildren.flatMap((h) => h.children);
      const count = <T>(xs: readonly T[], test: (x: T) => boolean) => xs.filter(test).length;

      near(
        'single claimants',
        count(households, (h) => h.adults.length === 1),
        n,
        81,
        1.5,
      );
      near('households with children', withChildren.length, n, 43, 1.5);
      near(
        'three or more children, of those with children',
        count(withChildren, (h) => h.children.length >= 3),
        withChildren.length,
        29,
        2.5,
      );
      near(
        'six children, of those with children',
        count(withChildren, (h) => h.children.length === 6),
        withChildren.length,
        2,
        1,
      );
      near(
        'disabled children',
        count(children, (c) => c.disability !== 'none'),
        children.length,
        8.5,
        1.5,
      );
      near(
        'adults with LCWRA',
        count(adults, (a) => a.limitedCapabilityForWorkRelatedActivity),
        adults.length,
        22,
        2,
      );
      near(
        'adults in paid work',
        count(adults, (a) => a.monthlyNetEarnings > 0),
        adults.length,
        33,
        2,
      );
      near(
        'households with housing costs',
        count(households, (h) => h.monthlyEligibleHousingCosts > 0),
        n,
        56,
        1.5,
      );
      near(
        'Greater London',
        count(households, (h) => h.livesInGreaterLondon),
        n,
        14,
        1.5,
      );
      near(
        'capital above £6,000',
        count(households, (h) => h.capital > 6000),
        n,
        10,
        1.5,
      );
      near(
        'capital above £16,000',
        count(households, (h) => h.capital > 16000),
        n,
        3,
        1,
      );
      near(
        'other income',
        count(households, (h) => h.monthlyUnearnedIncome > 0),
        n,
        12,
        1.5,
      );

      // Both sides of 6 April 2017, and the two-child limit biting in a real share of families.
      near(
        'children born before 6 April 2017',
        count(children, (c) => c.dateOfBirth < '2017-04-06'),
        children.length,
        55,
        3,
      );
      const limited = (h: UcHousehold) =>
        [...h.children]
          .sort((a, b) => a.dateOfBirth.localeCompare(b.dateOfBirth))
          .some((c, i) => i >= 2 && c.dateOfBirth >= '2017-04-06');
      near(
        'families the two-child limit reaches, of those with children',
        count(withChildren, limited),
        withChildren.length,
        19,
        3,
      );
      near(
        'childcare costs, of those with children',
        count(withChildren, (h) => h.monthlyChildcareCosts > 0),
        withChildren.length,
        8,
        2,
      );
      const earnings = adults
        .map((a) => a.monthlyNetEarnings)
        .filter((e) => e > 0)
        .sort((a, b) => a - b);
      const medianEarnings = earnings[Math.floor(earnings.length / 2)]!;
      assert.ok(
        medianEarnings > 700 && medianEarnings < 1200,
        `median monthly earnings of those in work: ${medianEarnings}`,
      );
      assert.ok(
        households.every(
          (h) => Number.isInteger(Math.round(h.capital * 100)) && Math.round(h.capital * 100) / 100 === h.capital,
        ),
        'amounts are whole pence',
      );

      // The outcomes cover the rules: nil awards over the capital limit, the benefit cap, the work allowance.
      near(
        'entitled',
        count(outcomes, (o) => o.entitled),
        n,
        90,
        6,
      );
      assert.ok(count(outcomes, (o) => o.details?.capitalAboveUpperLimit === true) > 100);
      assert.ok(count(outcomes, (o) => Number(o.details?.benefitCapReduction) > 0) > 20, 'some awards are capped');
      assert.ok(
        count(outcomes, (o) => Number(o.details?.workAllowance) > 0) > 500,
        'many earners keep a work allowance',
      );
      assert.ok(
        count(outcomes, (o) => Number(o.elements.childcareCostsElement) > 0) > 100,
        'some get the childcare costs element',
      );
    },
  );

  it('Child Benefit requests assess with the bundled rule set, in both rate years', async () => {
    const ruleSet = await loadRuleSet(rulesets('uk-child-benefit'));
    const options = simulationOptions({ benefit: 'child-benefit', seed: 9, from: '2025-04-07', to: '2026-11-01' });
    const requests = [...simulate(options, 3_000)];
    for (const request of requests) assert.ok(request.applicationId.startsWith('SYN-CB-9-'));
    const outcomes = requests.map((r) => ruleSet.assess(r, 'none').outcome);
    assert.ok(
      outcomes.filter((o) => Number(o.details?.hicbcAnnualCharge) > 0).length > 100,
      'some pay the High Income Child Benefit Charge',
    );
  });
});
