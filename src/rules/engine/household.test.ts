import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EntitleError } from '../../errors/index.ts';
import { loadRuleSet, ruleSetFromBundle } from './index.ts';

// A rule set that reads two fields of a household model with more (compiler/fixtures/good-household).
const dir = fileURLToPath(new URL('../compiler/fixtures/good-household', import.meta.url));
const base = { benefit: 'test-benefit', applicationId: 'HH-1', assessmentDate: '2025-06-01' };

function problemsOf(work: () => unknown): { field?: string; message: string }[] {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof EntitleError && error.code === 'ENTITLE_INPUT_INVALID', String(error));
    return [...error.problems];
  }
  assert.fail('expected the input to be refused');
}

describe('a rule set reading the household model', () => {
  it('requires only what it reads, checks every other field given, and lists the fields it used', async () => {
    const ruleSet = await loadRuleSet(dir);
    const read = { people: [{ earnings: 100 }], rent: 50 };
    const { outcome } = ruleSet.assess({ ...base, household: read });
    // 100.00 + 50.00 - 50% of 100.00
    assert.equal(outcome.amount, 100);
    assert.deepEqual(outcome.fieldsUsed, ['people[].earnings', 'rent']);

    // Fields it does not read: accepted, and the decision is the same.
    const whole = { people: [{ earnings: 100, dateOfBirth: '1990-01-01', pension: 20 }], rent: 50, savings: 9000 };
    assert.deepEqual(ruleSet.assess({ ...base, household: whole }).outcome, outcome);

    // ...but checked when given, by name.
    assert.deepEqual(
      problemsOf(() => ruleSet.assess({ ...base, household: { ...whole, savings: 'lots' } })).map((p) => p.field),
      ['savings'],
    );
    // What it reads is required.
    assert.deepEqual(
      problemsOf(() => ruleSet.assess({ ...base, household: { people: [{}], rent: 50 } })).map((p) => p.field),
      ['people[0].earnings'],
    );
    // A field nobody defines is refused, naming the nearest known one, and never echoing the value.
    const unknown = problemsOf(() =>
      ruleSet.assess({ ...base, household: { ...read, people: [{ earnings: 100, pensoin: 'Jones' }], rnet: 1 } }),
    );
    assert.deepEqual(
      unknown.map((p) => `${p.field}: ${p.message}`),
      [
        'people[0].pensoin: is not a field of the household: did you mean pension?',
        'rnet: is not a field of the household: did you mean rent?',
      ],
    );
    assert.doesNotMatch(JSON.stringify(unknown), /Jones/);
  });

  it('marks a decision that used a provisional rate, and only that one, the same after a round trip through storage', async () => {
    const ruleSet = await loadRuleSet(dir);
    const couple = {
      ...base,
      assessmentDate: '2026-06-01',
      household: { people: [{ earnings: 0 }, { earnings: 0 }], rent: 0 },
    };
    const single = { ...couple, household: { people: [{ earnings: 0 }], rent: 0 } };
    assert.deepEqual(
      [ruleSet.assess(couple).outcome.provisional, ruleSet.assess(couple).outcome.provisionalParameters],
      [true, ['coupleRate']],
    );
    assert.equal(ruleSet.assess(single).outcome.provisional, undefined);
    // A stored bundle may come back with its keys in another order (jsonb sorts them): the same
    // hash and the same decision, the fields used listed in the same order.
    const reordered = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reordered)
        : value && typeof value === 'object'
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([k, v]) => [k, reordered(v)]),
            )
          : value;
    const rebuilt = ruleSetFromBundle(reordered(ruleSet.program.bundle));
    assert.equal(rebuilt.hash, ruleSet.hash);
    assert.deepEqual(
      rebuilt.assess({ ...base, household: { people: [{ earnings: 1 }], rent: 1 } }).outcome.fieldsUsed,
      ['people[].earnings', 'rent'],
    );
    assert.deepEqual(rebuilt.assess(couple), ruleSet.assess(couple));
  });
});
