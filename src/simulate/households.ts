/**
 * Synthetic households: the distributions, and the seeded generator that draws from them.
 *
 * The shares below are ILLUSTRATIVE. Their shapes follow DWP's published Universal Credit
 * statistics (Stat-Xplore household types, the two-child-limit statistics, the health journey
 * and employment tables), rounded; they are not official figures and describe no real person.
 * They exist so that every part of the rules is exercised in roughly the proportions live
 * traffic would exercise it: the two-child limit, the benefit cap, the work allowance, tariff
 * income and the capital limit, childcare, LCWRA and carers. docs/simulation.md repeats them.
 *
 * Universal Credit (per household unless it says per adult):
 *
 * | what                      | distribution                                                                 |
 * |---------------------------|------------------------------------------------------------------------------|
 * | household type            | single no children 52%, single with children 29%, couple with 14%, couple without 5% |
 * | claimant age              | 18-24 14%, 25-34 28%, 35-44 26%, 45-54 19%, 55-65 13%; a partner within 6 years |
 * | children (if any)         | 1: 38%, 2: 33%, 3: 17%, 4: 7%, 5: 3%, 6: 2%                                  |
 * | child ages                | eldest: the larger of two uniform draws up to 19 (at most the claimant's age less 17); then gaps of 0-4 years |
 * | born before 6 April 2017  | follows from the ages: about 55% of children in 2025/26; the two-child limit reaches about 19% of families |
 * | disabled child            | per child: lower rate 6%, higher rate 2.5%                                   |
 * | LCWRA (per adult)         | single without children 35%, every other adult 12%; 85% of them protected   |
 * | carer (per adult)         | 6%                                                                           |
 * | in paid work (per adult)  | with LCWRA 8%; else single without children 30%, lone parent 50%, first partner 50%, second partner 35% |
 * | monthly net earnings      | £1-250 12%, £250-500 14%, £500-1,000 28%, £1,000-1,500 24%, £1,500-2,000 13%, £2,000-3,000 7%, £3,000-4,500 2% |
 * | housing costs             | 56% have them, a month: single without children social £300-600 (55%), private £350-800 (45%); others social £400-800, private £500-1,300; Greater London x1.5 |
 * | Greater London            | 14%                                                                          |
 * | non-dependants            | of those with housing costs: one 7%, two 2%                                  |
 * | capital                   | none 78%, £1-6,000 12%, £6,000.01-16,000 7%, £16,000.01-50,000 3%            |
 * | other (unearned) income   | 12% have £20-700 a month                                                     |
 * | childcare costs           | with a child under 16 and the work condition met: 20% pay £100-1,700 a month; 2% of other families report some |
 *
 * Child Benefit: couple 65%; children 1: 45%, 2: 37%, 3: 13%, 4: 4%, 5: 1%; each adult's
 * adjusted net income £0-12,570 20%, £12,570-30,000 30%, £30,000-50,000 25%, £50,000-60,000 8%,
 * £60,000-80,000 10%, £80,000-150,000 7%.
 *
 * Within a band every amount is equally likely, in whole pence. Amounts are generated as whole
 * pence and written as pounds with two decimals, as the assessment contract takes them.
 */
import { dateOfDay, dayNumber, formatIsoDate, parseIsoDate } from '../rules/index.ts';

/** One entry of a distribution: a value and its share in percent (shares of a table sum to 100). */
export interface Weighted<T> {
  readonly value: T;
  readonly percent: number;
}

/** A band of whole numbers (pence, years), both ends included. */
export interface Band {
  readonly min: number;
  readonly max: number;
}

/**
 * mulberry32 (Tommy Ettinger, public domain): 32 bits of state, a handful of integer
 * operations per number. Hand-written so that a seed gives the same households on every
 * machine and Node version; `Math.random` cannot be seeded. Good enough for synthetic data,
 * not for anything secret.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform number in [0, 1), with 32 bits of randomness (so exact as a double). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** A uniform whole number from `min` to `max`, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  inBand(band: Band): number {
    return this.int(band.min, band.max);
  }

  /** True with the given share in percent. */
  chance(percent: number): boolean {
    return this.next() * 100 < percent;
  }

  pick<E extends Weighted<unknown>>(table: readonly E[]): E['value'] {
    let at = this.next() * 100;
    for (const entry of table) {
      at -= entry.percent;
      if (at < 0) return entry.value;
    }
    return table[table.length - 1]!.value;
  }
}

const pounds = (from: number, to: number): Band => ({ min: Math.round(from * 100), max: Math.round(to * 100) });

export const UC_DISTRIBUTIONS = {
  householdType: [
    { value: { couple: false, children: false }, percent: 52 },
    { value: { couple: false, children: true }, percent: 29 },
    { value: { couple: true, children: true }, percent: 14 },
    { value: { couple: true, children: false }, percent: 5 },
  ],
  claimantAge: [
    { value: { min: 18, max: 24 }, percent: 14 },
    { value: { min: 25, max: 34 }, percent: 28 },
    { value: { min: 35, max: 44 }, percent: 26 },
    { value: { min: 45, max: 54 }, percent: 19 },
    { value: { min: 55, max: 65 }, percent: 13 },
  ],
  partnerAgeGap: { min: -6, max: 6 },
  childCount: [
    { value: 1, percent: 38 },
    { value: 2, percent: 33 },
    { value: 3, percent: 17 },
    { value: 4, percent: 7 },
    { value: 5, percent: 3 },
    { value: 6, percent: 2 },
  ],
  oldestChildAge: 19,
  /** Years between siblings; a gap of 0 is twins. */
  siblingGap: [
    { value: 0, percent: 3 },
    { value: 1, percent: 17 },
    { value: 2, percent: 40 },
    { value: 3, percent: 25 },
    { value: 4, percent: 15 },
  ],
  disability: [
    { value: 'lower', percent: 6 },
    { value: 'higher', percent: 2.5 },
    { value: 'none', percent: 91.5 },
  ],
  lcwraPercent: { singleWithoutChildren: 35, otherAdult: 12 },
  lcwraProtectedPercent: 85,
  carerPercent: 6,
  inWorkPercent: { withLcwra: 8, singleWithoutChildren: 30, loneParent: 50, firstPartner: 50, secondPartner: 35 },
  monthlyEarnings: [
    { value: pounds(0.01, 250), percent: 12 },
    { value: pounds(250, 500), percent: 14 },
    { value: pounds(500, 1000), percent: 28 },
    { value: pounds(1000, 1500), percent: 24 },
    { value: pounds(1500, 2000), percent: 13 },
    { value: pounds(2000, 3000), percent: 7 },
    { value: pounds(3000, 4500), percent: 2 },
  ],
  housingCostsPercent: 56,
  /** Eligible rent follows need: a single adult without children has one room (or a shared-room rate). */
  rent: {
    single: [
      { value: pounds(300, 600), percent: 55 },
      { value: pounds(350, 800), percent: 45 },
    ],
    family: [
      { value: pounds(400, 800), percent: 55 },
      { value: pounds(500, 1300), percent: 45 },
    ],
  },
  greaterLondonPercent: 14,
  /** London rents: the band times 3/2, in whole pence. */
  londonRent: { numerator: 3, denominator: 2 },
  nonDependants: [
    { value: 1, percent: 7 },
    { value: 2, percent: 2 },
    { value: 0, percent: 91 },
  ],
  capital: [
    { value: pounds(0, 0), percent: 78 },
    { value: pounds(0.01, 6000), percent: 12 },
    { value: pounds(6000.01, 16000), percent: 7 },
    { value: pounds(16000.01, 50000), percent: 3 },
  ],
  unearnedIncomePercent: 12,
  unearnedIncome: pounds(20, 700),
  /** Childcare is for children under 16 (to the September after the 16th birthday, simplified). */
  childcareAgeBelow: 16,
  childcarePercent: { workConditionMet: 20, otherwise: 2 },
  childcare: pounds(100, 1700),
} as const satisfies Record<string, unknown>;

export const CHILD_BENEFIT_DISTRIBUTIONS = {
  couplePercent: 65,
  parentAge: { min: 18, max: 60 },
  childCount: [
    { value: 1, percent: 45 },
    { value: 2, percent: 37 },
    { value: 3, percent: 13 },
    { value: 4, percent: 4 },
    { value: 5, percent: 1 },
  ],
  annualAdjustedNetIncome: [
    { value: pounds(0, 12570), percent: 20 },
    { value: pounds(12570, 30000), percent: 30 },
    { value: pounds(30000, 50000), percent: 25 },
    { value: pounds(50000, 60000), percent: 8 },
    { value: pounds(60000, 80000), percent: 10 },
    { value: pounds(80000, 150000), percent: 7 },
  ],
} as const satisfies Record<string, unknown>;

/** A birth date giving exactly `age` whole years on `on`: that many years back, less up to 364 days. */
function bornAged(random: Random, on: string, age: number): string {
  // The same day `age` years back; 29 February in a common year is taken as 1 March.
  const sameDay = dayNumber(parseIsoDate(on)! - age * 10_000);
  return formatIsoDate(dateOfDay(sameDay - random.int(0, 364)));
}

/** Pence written as pounds: whole pence divided by 100 is the nearest double to the decimal. */
const money = (pence: number): number => pence / 100;

/**
 * Ages of `count` children, eldest first: the eldest no older than 19 and at least 17 years
 * younger than the claimant; younger ones a gap of 0 to 4 years apart, never below 0. A young
 * claimant has fewer children, as in life.
 */
function childAges(
  random: Random,
  count: number,
  claimantAge: number,
  oldest: number,
  gaps: readonly Weighted<number>[],
): number[] {
  const ceiling = Math.max(0, Math.min(oldest, claimantAge - 17));
  const n = Math.min(count, ceiling + 1);
  // The larger of two draws: families claim for years, so their eldest children are older.
  const lowest = Math.min(n - 1, ceiling);
  const ages = [Math.max(random.int(lowest, ceiling), random.int(lowest, ceiling))];
  for (let i = 1; i < n; i++) ages.push(Math.max(0, ages[i - 1]! - random.pick(gaps)));
  return ages;
}

/** One Universal Credit household assessed on `on`. */
export function universalCreditHousehold(random: Random, on: string): Record<string, unknown> {
  const d = UC_DISTRIBUTIONS;
  const type = random.pick(d.householdType);
  const claimantAge = random.inBand(random.pick(d.claimantAge));
  const ages = type.couple
    ? [claimantAge, Math.max(18, Math.min(65, claimantAge + random.inBand(d.partnerAgeGap)))]
    : [claimantAge];

  const children = type.children
    ? childAges(random, random.pick(d.childCount), claimantAge, d.oldestChildAge, d.siblingGap).map((age) => ({
        age,
        dateOfBirth: bornAged(random, on, age),
        disability: random.pick(d.disability),
      }))
    : [];

  const adults = ages.map((age, i) => {
    const lcwra = random.chance(
      !type.couple && !type.children ? d.lcwraPercent.singleWithoutChildren : d.lcwraPercent.otherAdult,
    );
    const working = d.inWorkPercent;
    const workPercent = lcwra
      ? working.withLcwra
      : type.couple
        ? i === 0
          ? working.firstPartner
          : working.secondPartner
        : type.children
          ? working.loneParent
          : working.singleWithoutChildren;
    const earnings = random.chance(workPercent) ? random.inBand(random.pick(d.monthlyEarnings)) : 0;
    return {
      dateOfBirth: bornAged(random, on, age),
      monthlyNetEarnings: money(earnings),
      limitedCapabilityForWorkRelatedActivity: lcwra,
      lcwraProtected: lcwra && random.chance(d.lcwraProtectedPercent),
      carer: random.chance(d.carerPercent),
    };
  });

  const london = random.chance(d.greaterLondonPercent);
  let rent = 0;
  let nonDependants = 0;
  if (random.chance(d.housingCostsPercent)) {
    rent = random.inBand(random.pick(type.couple || type.children ? d.rent.family : d.rent.single));
    if (london) rent = Math.round((rent * d.londonRent.numerator) / d.londonRent.denominator);
    nonDependants = random.pick(d.nonDependants);
  }

  // The childcare work condition as S5 reg. 32(1) puts it (see the rule set): someone works, and
  // in a couple the other works too or cannot provide childcare.
  const workConditionMet =
    adults.some((a) => a.monthlyNetEarnings > 0) &&
    adults.every((a) => a.monthlyNetEarnings > 0 || a.limitedCapabilityForWorkRelatedActivity || a.carer);
  const youngChild = children.some((c) => c.age < d.childcareAgeBelow);
  const childcare =
    youngChild && random.chance(workConditionMet ? d.childcarePercent.workConditionMet : d.childcarePercent.otherwise)
      ? random.inBand(d.childcare)
      : 0;

  const capital = random.inBand(random.pick(d.capital));
  const unearned = random.chance(d.unearnedIncomePercent) ? random.inBand(d.unearnedIncome) : 0;

  return {
    adults,
    children: children.map((c) => ({ dateOfBirth: c.dateOfBirth, disability: c.disability })),
    monthlyEligibleHousingCosts: money(rent),
    nonDependants,
    monthlyChildcareCosts: money(childcare),
    capital: money(capital),
    monthlyUnearnedIncome: money(unearned),
    livesInGreaterLondon: london,
  };
}

/** One Child Benefit household assessed on `on`: always at least one child. */
export function childBenefitHousehold(random: Random, on: string): Record<string, unknown> {
  const d = CHILD_BENEFIT_DISTRIBUTIONS;
  const parentAge = random.inBand(d.parentAge);
  const adultCount = random.chance(d.couplePercent) ? 2 : 1;
  const adults = Array.from({ length: adultCount }, () => ({
    annualAdjustedNetIncome: money(random.inBand(random.pick(d.annualAdjustedNetIncome))),
  }));
  const children = childAges(
    random,
    random.pick(d.childCount),
    parentAge,
    UC_DISTRIBUTIONS.oldestChildAge,
    UC_DISTRIBUTIONS.siblingGap,
  ).map((age) => ({ dateOfBirth: bornAged(random, on, age) }));
  return { adults, children };
}
