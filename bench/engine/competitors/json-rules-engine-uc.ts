// Universal Credit (2025/26) with json-rules-engine, used the idiomatic way:
// rules (conditions over facts, some of them computed facts) answer each
// eligibility question by firing events; JS turns the fired events into
// amounts. json-rules-engine has no arithmetic, so every amount (and the
// rates table) lives in JS, in integer pence.
//
// Compromises forced by the engine:
//  - conditions cannot iterate over a list, so per-child questions run a
//    second, small engine once per child (UC has any number of children);
//    adults are at most two, so adult questions address `$[0]` / `$[1]`;
//  - rules cannot sort: a child's position (stable sort by date of birth) is
//    computed in JS and given to the child engine as a fact;
//  - comparison operators only accept numbers, so dates become epoch ms.

import { Engine } from 'json-rules-engine';
import type { Almanac, Event, RuleProperties, TopLevelCondition } from 'json-rules-engine';
import type { ChildDisability, UcInput } from './uc-input.ts';

// ---- rates (pence per month) ------------------------------------------------

const STANDARD_ALLOWANCE: Record<string, number> = {
  'single-under-25': 31698,
  'single-25-plus': 40014,
  'couple-both-under-25': 49755,
  'couple-25-plus': 62810,
};
const CHILD_ELEMENT = { higher: 33900, standard: 29281 };
const DISABLED_CHILD_ADDITION: Record<string, number> = { lower: 15876, higher: 49587 };
const LCWRA_ELEMENT = 42327;
const CARER_ELEMENT = 20168;
const CHILDCARE_CAP: Record<string, number> = { 'one-child': 103188, 'two-or-more': 176894 };
const NON_DEPENDANT_DEDUCTION = 9302;
const WORK_ALLOWANCE: Record<string, number> = { lower: 41100, higher: 68400 };
const CAPITAL_LOWER_LIMIT = 600000;
const CAPITAL_UPPER_LIMIT = 1600000;
const TARIFF_STEP = 25000;
const TARIFF_PER_STEP = 435;
const EARNINGS_TAPER_PERCENT = 55;
const CHILDCARE_PERCENT = 85;
const CAP_EXEMPT_EARNINGS = 84656; // UC Regs reg. 82(1)(a): 16 x £12.21 x 52 / 12
const BENEFIT_CAP: Record<string, number> = {
  'london-family': 211025,
  'london-single': 141392,
  'outside-london-family': 183500,
  'outside-london-single': 122942,
};
const TWO_CHILD_LIMIT_START = Date.parse('2017-04-06');

// ---- helpers ------------------------------------------------------------------

const pence = (pounds: number): number => Math.round(pounds * 100);
/** round-half-up(x * percent / 100) on integers. */
const percentOf = (x: number, percent: number): number => Math.floor((x * percent + 50) / 100);

/** Whole years from an ISO birth date to an ISO date (birthday anniversary rule). */
function ageOn(dateOfBirth: string, on: string): number {
  const [by, bm, bd] = dateOfBirth.split('-').map(Number) as [number, number, number];
  const [y, m, d] = on.split('-').map(Number) as [number, number, number];
  return y - by - (m * 100 + d < bm * 100 + bd ? 1 : 0);
}

interface AdultFact {
  age: number;
  earnings: number;
  lcwra: boolean;
  carer: boolean;
}

/** A condition as it may appear inside `all` / `any` (not exported by the typings). */
type NestedCondition = Extract<TopLevelCondition, { all: unknown }>['all'][number];

const fact = (name: string, operator: string, value: unknown, path?: string) =>
  path === undefined ? { fact: name, operator, value } : { fact: name, operator, value, path };
const adult = (i: 0 | 1, field: keyof AdultFact, operator: string, value: unknown) =>
  fact('adults', operator, value, `$[${i}].${field}`);

// ---- household engine -----------------------------------------------------------

function householdEngine(): Engine {
  const engine = new Engine([], { allowUndefinedFacts: false });

  // Computed facts, derived lazily (and cached per run) from the runtime facts.
  const adults = (a: Almanac) => a.factValue<AdultFact[]>('adults');
  engine.addFact('adultCount', async (_p, a) => (await adults(a)).length);
  engine.addFact('adultsAged25Plus', async (_p, a) => (await adults(a)).filter((x) => x.age >= 25).length);
  engine.addFact('adultsEarning', async (_p, a) => (await adults(a)).filter((x) => x.earnings > 0).length);
  engine.addFact('anyLcwra', async (_p, a) => (await adults(a)).some((x) => x.lcwra));
  engine.addFact('totalEarnings', async (_p, a) => (await adults(a)).reduce((s, x) => s + x.earnings, 0));
  engine.addFact('childCount', async (_p, a) => (await a.factValue<unknown[]>('children')).length);
  engine.addFact(
    'disabledChildren',
    async (_p, a) =>
      (await a.factValue<{ disability: ChildDisability }[]>('children')).filter((c) => c.disability !== 'none').length,
  );
  engine.addFact(
    'nonDependantDeductions',
    async (_p, a) => (await a.factValue<number>('nonDependants')) * NON_DEPENDANT_DEDUCTION,
  );

  // Shared conditions, referenced by several rules.
  const conditions: Record<string, TopLevelCondition> = {
    carerElementAdult0: { all: [adult(0, 'carer', 'equal', true), adult(0, 'lcwra', 'equal', false)] },
    carerElementAdult1: { all: [adult(1, 'carer', 'equal', true), adult(1, 'lcwra', 'equal', false)] },
    // UC Regs reg. 29(4): when both joint claimants have LCWRA, a carer between them keeps one carer element.
    carerElementBothLcwra: {
      all: [
        fact('adultCount', 'equal', 2),
        adult(0, 'lcwra', 'equal', true),
        adult(1, 'lcwra', 'equal', true),
        { any: [adult(0, 'carer', 'equal', true), adult(1, 'carer', 'equal', true)] },
      ],
    },
    // Every adult earns, or a couple where one earns and the other has LCWRA or cares.
    workCondition: {
      any: [
        fact('adultsEarning', 'equal', { fact: 'adultCount' }),
        {
          all: [
            fact('adultCount', 'equal', 2),
            {
              any: [
                {
                  all: [
                    adult(0, 'earnings', 'greaterThan', 0),
                    { any: [adult(1, 'lcwra', 'equal', true), adult(1, 'carer', 'equal', true)] },
                  ],
                },
                {
                  all: [
                    adult(1, 'earnings', 'greaterThan', 0),
                    { any: [adult(0, 'lcwra', 'equal', true), adult(0, 'carer', 'equal', true)] },
                  ],
                },
              ],
            },
          ],
        },
      ],
    },
    housingElementPayable: { all: [fact('housingCosts', 'greaterThan', { fact: 'nonDependantDeductions' })] },
    workAllowanceApplies: { any: [fact('childCount', 'greaterThan', 0), fact('anyLcwra', 'equal', true)] },
    family: { any: [fact('adultCount', 'equal', 2), fact('childCount', 'greaterThan', 0)] },
    benefitCapExempt: {
      any: [
        fact('anyLcwra', 'equal', true),
        { condition: 'carerElementAdult0' },
        { condition: 'carerElementAdult1' },
        { condition: 'carerElementBothLcwra' },
        fact('disabledChildren', 'greaterThan', 0),
        fact('totalEarnings', 'greaterThanInclusive', CAP_EXEMPT_EARNINGS),
      ],
    },
  };
  for (const [name, condition] of Object.entries(conditions)) engine.setCondition(name, condition);

  const rule = (type: string, params: Record<string, unknown>, all: NestedCondition[]): RuleProperties => ({
    name: `${type} ${JSON.stringify(params)}`,
    conditions: { all },
    event: { type, params },
  });
  const band = (couple: boolean, over25: boolean, name: string) =>
    rule('standard-allowance', { band: name }, [
      fact('adultCount', 'equal', couple ? 2 : 1),
      fact('adultsAged25Plus', over25 ? 'greaterThanInclusive' : 'equal', over25 ? 1 : 0),
    ]);
  const cap = (london: boolean, family: boolean, name: string) =>
    rule('benefit-cap', { band: name }, [
      { not: { condition: 'benefitCapExempt' } },
      fact('london', 'equal', london),
      family ? { condition: 'family' } : { not: { condition: 'family' } },
    ]);

  const rules: RuleProperties[] = [
    band(false, false, 'single-under-25'),
    band(false, true, 'single-25-plus'),
    band(true, false, 'couple-both-under-25'),
    band(true, true, 'couple-25-plus'),
    rule('lcwra-element', {}, [fact('anyLcwra', 'equal', true)]),
    rule('carer-element', { adult: 0 }, [{ condition: 'carerElementAdult0' }]),
    rule('carer-element', { adult: 1 }, [{ condition: 'carerElementAdult1' }]),
    rule('carer-element', { adult: 'shared' }, [{ condition: 'carerElementBothLcwra' }]),
    ...(['one-child', 'two-or-more'] as const).map((capBand) =>
      rule('childcare-element', { cap: capBand }, [
        fact('childcareCosts', 'greaterThan', 0),
        capBand === 'one-child' ? fact('childCount', 'equal', 1) : fact('childCount', 'greaterThanInclusive', 2),
        { condition: 'workCondition' },
      ]),
    ),
    rule('housing-element', {}, [{ condition: 'housingElementPayable' }]),
    rule('work-allowance', { level: 'lower' }, [
      { condition: 'workAllowanceApplies' },
      { condition: 'housingElementPayable' },
    ]),
    rule('work-allowance', { level: 'higher' }, [
      { condition: 'workAllowanceApplies' },
      { not: { condition: 'housingElementPayable' } },
    ]),
    rule('capital-over-limit', {}, [fact('capital', 'greaterThan', CAPITAL_UPPER_LIMIT)]),
    rule('tariff-income', {}, [fact('capital', 'greaterThan', CAPITAL_LOWER_LIMIT)]),
    cap(true, true, 'london-family'),
    cap(true, false, 'london-single'),
    cap(false, true, 'outside-london-family'),
    cap(false, false, 'outside-london-single'),
  ];
  for (const r of rules) engine.addRule(r);
  return engine;
}

// ---- child engine (run once per child) -------------------------------------------

function childEngine(): Engine {
  const engine = new Engine();
  const bornBeforeLimit = fact('child', 'lessThan', TWO_CHILD_LIMIT_START, '$.birthTime');
  engine.setCondition('firstChildBornBeforeLimit', {
    all: [fact('child', 'equal', 1, '$.position'), bornBeforeLimit],
  });
  engine.addRule({
    name: 'child element, higher rate',
    conditions: { all: [{ condition: 'firstChildBornBeforeLimit' }] },
    event: { type: 'child-element', params: { rate: 'higher' } },
  });
  engine.addRule({
    name: 'child element, standard rate (two-child limit or born before 6 April 2017)',
    conditions: {
      all: [
        { any: [fact('child', 'lessThanInclusive', 2, '$.position'), bornBeforeLimit] },
        { not: { condition: 'firstChildBornBeforeLimit' } },
      ],
    },
    event: { type: 'child-element', params: { rate: 'standard' } },
  });
  for (const level of ['lower', 'higher']) {
    engine.addRule({
      name: `disabled child addition, ${level} rate`,
      conditions: { all: [fact('child', 'equal', level, '$.disability')] },
      event: { type: 'disabled-child-addition', params: { level } },
    });
  }
  return engine;
}

// ---- amounts from events --------------------------------------------------------

const param = (e: Event, key: string): string => String(e.params?.[key]);

export function createJsonRulesEngineUc(): { evaluate(input: UcInput): Promise<number> } {
  const household = householdEngine();
  const child = childEngine();

  return {
    async evaluate(input: UcInput): Promise<number> {
      const h = input.household;
      const adults: AdultFact[] = h.adults.map((a) => ({
        age: ageOn(a.dateOfBirth, input.assessmentDate),
        earnings: pence(a.monthlyNetEarnings),
        lcwra: a.limitedCapabilityForWorkRelatedActivity,
        carer: a.carer,
      }));
      const facts = {
        adults,
        children: h.children,
        housingCosts: pence(h.monthlyEligibleHousingCosts),
        nonDependants: h.nonDependants,
        childcareCosts: pence(h.monthlyChildcareCosts),
        capital: pence(h.capital),
        unearnedIncome: pence(h.monthlyUnearnedIncome),
        london: h.livesInGreaterLondon,
      };
      // Position = rank in a stable sort by date of birth (Array.prototype.sort is stable).
      const byAge = h.children
        .map((c, index) => ({ index, birthTime: Date.parse(c.dateOfBirth), disability: c.disability }))
        .sort((a, b) => a.birthTime - b.birthTime);

      const [householdResult, ...childResults] = await Promise.all([
        household.run(facts),
        ...byAge.map((c, i) => child.run({ child: { ...c, position: i + 1 } })),
      ]);
      const { events, almanac } = householdResult;
      const fired = (type: string) => events.filter((e) => e.type === type);

      let childAmounts = 0;
      for (const { events: childEvents } of childResults) {
        for (const e of childEvents) {
          childAmounts +=
            e.type === 'child-element'
              ? CHILD_ELEMENT[param(e, 'rate') as keyof typeof CHILD_ELEMENT]
              : (DISABLED_CHILD_ADDITION[param(e, 'level')] ?? 0);
        }
      }

      const nonDependantDeductions = await almanac.factValue<number>('nonDependantDeductions');
      const housingElement = fired('housing-element').length ? facts.housingCosts - nonDependantDeductions : 0;
      const childcare = fired('childcare-element')[0];
      const childcareElement = childcare
        ? Math.min(percentOf(facts.childcareCosts, CHILDCARE_PERCENT), CHILDCARE_CAP[param(childcare, 'cap')] ?? 0)
        : 0;
      const maximumAmount =
        (STANDARD_ALLOWANCE[param(fired('standard-allowance')[0]!, 'band')] ?? 0) +
        childAmounts +
        (fired('lcwra-element').length ? LCWRA_ELEMENT : 0) +
        fired('carer-element').length * CARER_ELEMENT +
        childcareElement +
        housingElement;

      const workAllowanceEvent = fired('work-allowance')[0];
      const workAllowance = workAllowanceEvent ? (WORK_ALLOWANCE[param(workAllowanceEvent, 'level')] ?? 0) : 0;
      const totalEarnings = await almanac.factValue<number>('totalEarnings');
      const earnedIncomeDeduction = percentOf(Math.max(0, totalEarnings - workAllowance), EARNINGS_TAPER_PERCENT);

      if (fired('capital-over-limit').length) return 0;
      const tariffIncome = fired('tariff-income').length
        ? Math.floor((facts.capital - CAPITAL_LOWER_LIMIT + TARIFF_STEP - 1) / TARIFF_STEP) * TARIFF_PER_STEP
        : 0;

      const award = Math.max(0, maximumAmount - earnedIncomeDeduction - facts.unearnedIncome - tariffIncome);
      const capEvent = fired('benefit-cap')[0];
      if (!capEvent) return award; // exempt
      const limit = BENEFIT_CAP[param(capEvent, 'band')] ?? 0;
      return award - Math.max(0, award - limit - childcareElement);
    },
  };
}
