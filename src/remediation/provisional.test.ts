import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RuleSetBundle } from '../rules/index.ts';
import { compile, taper, ucBundle } from '../testing/index.ts';
import { revisedProvisional, withRevisedValues } from './provisional.ts';

type Parameters = Record<string, { values: Record<string, unknown>[] }>;

/** The bundled rule set with the 2026/27 carer element confirmed at `value`. */
async function confirmingCarer(value: number): Promise<RuleSetBundle> {
  const bundle = structuredClone(await ucBundle()) as unknown as { parameters: Parameters };
  const entry = bundle.parameters.carerElementAmount!.values.at(-1)!;
  delete entry.provisional;
  delete entry.note;
  Object.assign(entry, { value, source: 'S3 (a test: the figure as confirmed)' });
  return bundle as unknown as RuleSetBundle;
}

describe('provisional values a release revises', () => {
  it('finds the values a release confirms or corrects, and replaces only those in another version', async () => {
    const bundled = await ucBundle();
    const confirmed = await confirmingCarer(209.4);
    const revised = revisedProvisional(bundled, confirmed);
    assert.deepEqual([...revised.keys()], ['carerElementAmount']);
    assert.deepEqual(revisedProvisional(bundled, bundled).size, 0, 'a release that changes none revises none');

    // An older version with another change of its own (the taper): only the carer element is
    // replaced, so the taper's own difference never shows as a correction.
    const older = taper(bundled, '57%');
    const corrected = compile(withRevisedValues(older, revised));
    const carer = {
      benefit: 'universal-credit',
      applicationId: 'P-1',
      assessmentDate: '2026-06-01',
      household: {
        adults: [
          {
            dateOfBirth: '1990-01-01',
            monthlyNetEarnings: 300,
            limitedCapabilityForWorkRelatedActivity: false,
            lcwraProtected: false,
            carer: true,
          },
        ],
        children: [],
        monthlyEligibleHousingCosts: 0,
        nonDependants: 0,
        monthlyChildcareCosts: 0,
        capital: 0,
        monthlyUnearnedIncome: 0,
        livesInGreaterLondon: false,
      },
    };
    const before = compile(older).assess(carer).outcome;
    const after = corrected.assess(carer).outcome;
    // 424.90 + 209.34 - 57% of 300 (171.00) = 463.24; with the carer element confirmed at 209.40, 6p more.
    assert.equal(before.amount, 463.24);
    assert.equal(after.amount, 463.3);
    assert.equal(after.provisional, undefined);
  });
});
