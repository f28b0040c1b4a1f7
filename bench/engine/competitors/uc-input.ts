// Input shape shared by the competitor implementations of the Universal Credit
// monthly calculation (2025/26 rates). Amounts are pounds with 2 decimals,
// dates are ISO `YYYY-MM-DD` strings; each engine converts to integer pence.

export type ChildDisability = 'none' | 'lower' | 'higher';

export interface UcAdult {
  dateOfBirth: string;
  monthlyNetEarnings: number;
  limitedCapabilityForWorkRelatedActivity: boolean;
  /** Not used by the 2025/26 rules; carried so inputs match our own engine's. */
  lcwraProtected: boolean;
  carer: boolean;
}

export interface UcChild {
  dateOfBirth: string;
  disability: ChildDisability;
}

export interface UcInput {
  benefit: 'universal-credit';
  applicationId: string;
  assessmentDate: string;
  household: {
    adults: UcAdult[];
    children: UcChild[];
    monthlyEligibleHousingCosts: number;
    nonDependants: number;
    monthlyChildcareCosts: number;
    capital: number;
    monthlyUnearnedIncome: number;
    livesInGreaterLondon: boolean;
  };
}

/**
 * The worked example: a couple (one aged 30), two children born after April
 * 2017, no housing costs, net earnings £1,500.00.
 * Maximum 62810 + 2 x 29281 = 121372; work allowance 68400;
 * deduction 55% x 81600 = 44880; award 76492 pence.
 */
export const workedExample: UcInput = {
  benefit: 'universal-credit',
  applicationId: 'worked-example',
  assessmentDate: '2025-06-01',
  household: {
    adults: [
      {
        dateOfBirth: '1995-03-10',
        monthlyNetEarnings: 1500,
        limitedCapabilityForWorkRelatedActivity: false,
        lcwraProtected: false,
        carer: false,
      },
      {
        dateOfBirth: '1996-08-22',
        monthlyNetEarnings: 0,
        limitedCapabilityForWorkRelatedActivity: false,
        lcwraProtected: false,
        carer: false,
      },
    ],
    children: [
      { dateOfBirth: '2018-05-14', disability: 'none' },
      { dateOfBirth: '2020-11-02', disability: 'none' },
    ],
    monthlyEligibleHousingCosts: 0,
    nonDependants: 0,
    monthlyChildcareCosts: 0,
    capital: 0,
    monthlyUnearnedIncome: 0,
    livesInGreaterLondon: false,
  },
};

export const WORKED_EXAMPLE_AWARD_PENCE = 76492;
