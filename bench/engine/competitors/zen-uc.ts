// Universal Credit (2025/26) written as a GoRules JDM decision graph, evaluated
// by @gorules/zen-engine. The whole calculation happens inside zen: JS only
// hands over the raw UcInput and reads `award` back. No preprocessing was
// needed; the places where zen's language forced a workaround are:
//  - no sort function: a child's position (by date of birth, stable) is its
//    rank, counted with `count()` over the other children (ties by index);
//  - strings cannot be compared with `<`: dates are compared as timestamps;
//  - `d(a).diff(d(b), 'year')` counts 29 Feb -> 28 Feb as a full year, so age
//    is computed from year/month/day parts (the anniversary rule used by JS);
//  - `round()` is banker's rounding: half-up is written floor((x*r + 50)/100).
// zen numbers are decimals, so pound amounts scaled by 100 are exact pence.
//
// Synchronous evaluation: zen-engine 0.54 only has async ZenDecision.evaluate
// (evaluateExpressionSync exists for lone expressions, not for graphs), so no
// evaluateSync is exported; `evaluate` below is the one to benchmark.

import { ZenEngine } from '@gorules/zen-engine';
import type { UcInput } from './uc-input.ts';

const at = { x: 0, y: 0 }; // node positions only matter to the visual editor

/** Expression node rows; later rows read earlier ones through `$.key`. */
function expressions(rows: Array<[key: string, value: string]>) {
  return rows.map(([key, value]) => ({ id: key, key, value }));
}

const facts = {
  id: 'facts',
  type: 'expressionNode',
  name: 'Household facts (pence, ages, child positions)',
  position: at,
  content: {
    expressions: expressions([
      ['asOfYear', 'd(assessmentDate).year()'],
      ['asOfMonthDay', 'd(assessmentDate).month() * 100 + d(assessmentDate).day()'],
      [
        'adults',
        `map(household.adults as a, {
           age: $.asOfYear - d(a.dateOfBirth).year()
                - ($.asOfMonthDay < d(a.dateOfBirth).month() * 100 + d(a.dateOfBirth).day() ? 1 : 0),
           earnings: round(a.monthlyNetEarnings * 100),
           lcwra: a.limitedCapabilityForWorkRelatedActivity,
           carer: a.carer
         })`,
      ],
      ['couple', 'len($.adults) == 2'],
      ['adultsAged25Plus', 'count($.adults, #.age >= 25)'],
      ['anyLcwra', 'some($.adults, #.lcwra)'],
      // UC Regs reg. 29(4): someone with LCWRA gets no carer element, unless both joint claimants
      // have LCWRA, when one carer element can go with the one LCWRA element.
      [
        'carerElements',
        'len($.adults) == 2 and all($.adults, #.lcwra) ? min([count($.adults, #.carer), 1]) : count($.adults, #.carer and not #.lcwra)',
      ],
      ['totalEarnings', 'sum(map($.adults, #.earnings))'],
      // Every adult earns, or a couple where one earns and the other has LCWRA or cares.
      [
        'workConditionMet',
        `all($.adults, #.earnings > 0) or ($.couple and (
           ($.adults[0].earnings > 0 and ($.adults[1].lcwra or $.adults[1].carer)) or
           ($.adults[1].earnings > 0 and ($.adults[0].lcwra or $.adults[0].carer))))`,
      ],
      ['birthTimes', 'map(household.children, d(#.dateOfBirth).timestamp())'],
      ['twoChildLimitStart', "d('2017-04-06').timestamp()"],
      // position = 1 + children born earlier + earlier-listed twins (a stable sort).
      [
        'children',
        `map(keys(household.children) as i, {
           position: 1 + count(keys(household.children),
             $.birthTimes[#] < $.birthTimes[i] or ($.birthTimes[#] == $.birthTimes[i] and # < i)),
           bornBeforeLimit: $.birthTimes[i] < $.twoChildLimitStart,
           disability: household.children[i].disability
         })`,
      ],
      ['childCount', 'len(household.children)'],
      ['housingCosts', 'round(household.monthlyEligibleHousingCosts * 100)'],
      ['nonDependants', 'household.nonDependants'],
      ['childcareCosts', 'round(household.monthlyChildcareCosts * 100)'],
      ['capital', 'round(household.capital * 100)'],
      ['unearnedIncome', 'round(household.monthlyUnearnedIncome * 100)'],
      ['london', 'household.livesInGreaterLondon'],
    ]),
  },
};

const standardAllowance = {
  id: 'standardAllowance',
  type: 'decisionTableNode',
  name: 'Standard allowance',
  position: at,
  content: {
    hitPolicy: 'first',
    passThrough: true,
    inputs: [
      { id: 'couple', name: 'Couple', field: 'couple' },
      { id: 'over25', name: 'Adults aged 25+', field: 'adultsAged25Plus' },
    ],
    outputs: [{ id: 'amount', name: 'Standard allowance', field: 'standardAllowance' }],
    rules: [
      { _id: 'single-u25', couple: 'false', over25: '0', amount: '31698' },
      { _id: 'single-25', couple: 'false', over25: '>= 1', amount: '40014' },
      { _id: 'couple-u25', couple: 'true', over25: '0', amount: '49755' },
      { _id: 'couple-25', couple: 'true', over25: '>= 1', amount: '62810' },
    ],
  },
};

const elements = {
  id: 'elements',
  type: 'expressionNode',
  name: 'Elements and maximum amount',
  position: at,
  content: {
    passThrough: true,
    expressions: expressions([
      [
        'childElement',
        `sum(map(children, (#.position == 1 and #.bornBeforeLimit) ? 33900
           : ((#.position <= 2 or #.bornBeforeLimit) ? 29281 : 0)))`,
      ],
      [
        'disabledChildAddition',
        "sum(map(children, #.disability == 'higher' ? 49587 : (#.disability == 'lower' ? 15876 : 0)))",
      ],
      ['lcwraElement', 'anyLcwra ? 42327 : 0'],
      ['carerElement', 'carerElements * 20168'],
      [
        'childcareElement',
        `(childcareCosts > 0 and childCount > 0 and workConditionMet)
           ? min([floor((childcareCosts * 85 + 50) / 100), childCount >= 2 ? 176894 : 103188])
           : 0`,
      ],
      ['housingElement', 'max([0, housingCosts - nonDependants * 9302])'],
      [
        'maximumAmount',
        `standardAllowance + $.childElement + $.disabledChildAddition + $.lcwraElement
           + $.carerElement + $.childcareElement + $.housingElement`,
      ],
      ['workAllowanceApplies', 'childCount > 0 or anyLcwra'],
    ]),
  },
};

const workAllowance = {
  id: 'workAllowance',
  type: 'decisionTableNode',
  name: 'Work allowance',
  position: at,
  content: {
    hitPolicy: 'first',
    passThrough: true,
    inputs: [
      { id: 'applies', name: 'Child or LCWRA', field: 'workAllowanceApplies' },
      { id: 'housing', name: 'Housing element', field: 'housingElement' },
    ],
    outputs: [{ id: 'amount', name: 'Work allowance', field: 'workAllowance' }],
    rules: [
      { _id: 'lower', applies: 'true', housing: '> 0', amount: '41100' },
      { _id: 'higher', applies: 'true', housing: '', amount: '68400' },
      { _id: 'none', applies: '', housing: '', amount: '0' },
    ],
  },
};

const benefitCapLimit = {
  id: 'benefitCapLimit',
  type: 'decisionTableNode',
  name: 'Benefit cap limit (monthly)',
  position: at,
  content: {
    hitPolicy: 'first',
    passThrough: true,
    inputs: [
      { id: 'london', name: 'Greater London', field: 'london' },
      { id: 'family', name: 'Couple or children', field: 'couple or childCount > 0' },
    ],
    outputs: [{ id: 'limit', name: 'Cap', field: 'benefitCapLimit' }],
    rules: [
      { _id: 'london-family', london: 'true', family: 'true', limit: '211025' },
      { _id: 'london-single', london: 'true', family: '', limit: '141392' },
      { _id: 'rest-family', london: '', family: 'true', limit: '183500' },
      { _id: 'rest-single', london: '', family: '', limit: '122942' },
    ],
  },
};

const award = {
  id: 'award',
  type: 'expressionNode',
  name: 'Deductions, benefit cap and award',
  position: at,
  content: {
    expressions: expressions([
      ['earnedIncomeDeduction', 'floor((max([0, totalEarnings - workAllowance]) * 55 + 50) / 100)'],
      ['capitalOverLimit', 'capital > 1600000'],
      ['tariffIncome', 'capital > 600000 ? ceil((capital - 600000) / 25000) * 435 : 0'],
      ['awardBeforeCap', 'max([0, maximumAmount - $.earnedIncomeDeduction - unearnedIncome - $.tariffIncome])'],
      ['capExempt', "anyLcwra or carerElement > 0 or some(children, #.disability != 'none') or totalEarnings >= 84656"],
      ['capReduction', '$.capExempt ? 0 : max([0, $.awardBeforeCap - benefitCapLimit - childcareElement])'],
      ['award', '$.capitalOverLimit ? 0 : $.awardBeforeCap - $.capReduction'],
    ]),
  },
};

const chain = [
  { id: 'input', type: 'inputNode', name: 'UC claim', position: at },
  facts,
  standardAllowance,
  elements,
  workAllowance,
  benefitCapLimit,
  award,
  { id: 'output', type: 'outputNode', name: 'Award', position: at },
];

/** The JDM graph: a straight chain input -> facts -> ... -> award -> output. */
export const ucDecisionContent = {
  contentType: 'application/vnd.gorules.decision',
  nodes: chain,
  edges: chain.slice(1).map((node, i) => ({
    id: `edge-${i}`,
    type: 'edge',
    sourceId: chain[i]!.id,
    targetId: node.id,
  })),
};

export function createZenUc(): Promise<{ evaluate(input: UcInput): Promise<number> }> {
  const engine = new ZenEngine();
  const decision = engine.createDecision(ucDecisionContent);
  decision.validate();
  return Promise.resolve({
    async evaluate(input: UcInput): Promise<number> {
      const response = (await decision.evaluate(input)) as { result: { award: unknown } };
      return Number(response.result.award);
    },
  });
}
