import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EntitleError } from '../../errors/index.ts';
import { loadRuleSet, ruleSetFromBundle } from './load.ts';

const ucDir = fileURLToPath(new URL('../../../rulesets/uk-universal-credit', import.meta.url));
const adult = {
  dateOfBirth: '1995-03-01',
  monthlyNetEarnings: 1500,
  limitedCapabilityForWorkRelatedActivity: false,
  lcwraProtected: false,
  carer: false,
};
const workedExample = {
  benefit: 'universal-credit',
  applicationId: 'APP-0001',
  assessmentDate: '2025-06-01',
  household: {
    adults: [adult, { ...adult, dateOfBirth: '2002-03-01', monthlyNetEarnings: 0 }],
    children: [
      { dateOfBirth: '2019-03-02', disability: 'none' },
      { dateOfBirth: '2021-06-02', disability: 'none' },
    ],
    monthlyEligibleHousingCosts: 0,
    nonDependants: 0,
    monthlyChildcareCosts: 0,
    capital: 0,
    monthlyUnearnedIncome: 0,
    livesInGreaterLondon: false,
  },
};

async function withCopy(edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'entitle-rules-'));
  await cp(ucDir, dir, { recursive: true });
  // The household model is found in the rule set's own directory before the one beside it.
  await cp(join(ucDir, '..', 'household.yaml'), join(dir, 'household.yaml'));
  await edit(dir);
  return dir;
}

describe('a compiled rule set', () => {
  it('matches the worked example from the reference rates to the penny', async () => {
    const ruleSet = await loadRuleSet(ucDir);
    const result = ruleSet.assess(workedExample);
    assert.equal(result.outcome.amount, 764.92);
    assert.equal(result.ruleset.id, 'uk-universal-credit');
    assert.match(result.ruleset.hash, /^sha256:[0-9a-f]{64}$/);
  });

  it('gives the same outcome, explanation and hash from two separate compilations', async () => {
    const [a, b] = await Promise.all([loadRuleSet(ucDir), loadRuleSet(ucDir)]);
    assert.deepEqual(a.assess(workedExample, 'trace'), b.assess(workedExample, 'trace'));
    assert.deepEqual(a.assess(workedExample, 'none').outcome, a.assess(workedExample, 'trace').outcome);
  });

  it('does not read the clock: the same input gives the same result whatever the time', async (t) => {
    const ruleSet = await loadRuleSet(ucDir);
    const before = ruleSet.assess(workedExample, 'trace');
    t.mock.timers.enable({ apis: ['Date'], now: new Date('2031-01-01T00:00:00Z') });
    assert.deepEqual(ruleSet.assess(workedExample, 'trace'), before);
  });

  it('keeps its hash when only comments and layout change, and changes it when a rate changes', async () => {
    const original = await loadRuleSet(ucDir);
    const reformatted = await withCopy(async (dir) => {
      const path = join(dir, 'parameters.yaml');
      await writeFile(path, `# a new comment\n\n${await readFile(path, 'utf8')}\n\n# another\n`);
    });
    const changed = await withCopy(async (dir) => {
      const path = join(dir, 'parameters.yaml');
      await writeFile(path, (await readFile(path, 'utf8')).replace('value: 400.14', 'value: 400.15'));
    });
    try {
      assert.equal((await loadRuleSet(reformatted)).hash, original.hash);
      assert.notEqual((await loadRuleSet(changed)).hash, original.hash);
    } finally {
      await Promise.all([rm(reformatted, { recursive: true }), rm(changed, { recursive: true })]);
    }
  });

  it('rebuilds from its stored bundle with the same hash and the same decisions', async () => {
    const original = await loadRuleSet(ucDir);
    const stored = JSON.parse(JSON.stringify(original.program.bundle)) as unknown;
    const rebuilt = ruleSetFromBundle(stored);
    assert.equal(rebuilt.hash, original.hash);
    assert.deepEqual(rebuilt.assess(workedExample, 'trace'), original.assess(workedExample, 'trace'));
  });

  it('traces every variable with its formula, and each parameter read with its date and source', async () => {
    const ruleSet = await loadRuleSet(ucDir);
    const { trace } = ruleSet.assess(workedExample, 'trace');
    assert.ok(trace);
    const standard = trace.variables.find((v) => v.name === 'standardAllowance');
    assert.equal(standard?.value, 628.1);
    assert.match(standard?.formula ?? '', /standardAllowanceCouple25OrOver/);
    assert.deepEqual(
      standard?.parameters.map((p) => [p.name, p.value, p.effectiveFrom, p.source.split(' ')[0]]),
      [['standardAllowanceCouple25OrOver', 628.1, '2025-04-07', 'S1']],
    );
    const children = trace.variables.find((v) => v.name === 'childElement');
    assert.deepEqual(children?.values, [292.81, 292.81]);
    assert.equal(trace.variables.length, ruleSet.program.variables.length);
  });

  it('lists only the parameters actually read: none from a branch not taken, all across a list', async () => {
    const ruleSet = await loadRuleSet(ucDir);
    const readBy = (input: unknown, name: string) =>
      ruleSet
        .assess(input, 'trace')
        .trace!.variables.find((v) => v.name === name)!
        .parameters.map((p) => p.name);
    assert.deepEqual(readBy(workedExample, 'childElement'), ['childElementOtherChild']);
    const olderChild = {
      ...workedExample,
      household: {
        ...workedExample.household,
        children: [
          { dateOfBirth: '2015-03-02', disability: 'none' },
          { dateOfBirth: '2019-03-02', disability: 'none' },
        ],
      },
    };
    assert.deepEqual(readBy(olderChild, 'childElement'), [
      'childElementFirstChildBornBefore2017',
      'childElementOtherChild',
    ]);
    assert.deepEqual(readBy(workedExample, 'lcwraElement'), []);
    assert.deepEqual(readBy(workedExample, 'workAllowance'), ['workAllowanceNoHousingCosts']);
  });

  it('explains the decision in plain English', async () => {
    const ruleSet = await loadRuleSet(ucDir);
    const single = {
      ...workedExample,
      household: { ...workedExample.household, adults: [{ ...adult, monthlyNetEarnings: 0 }], children: [] },
    };
    assert.ok(
      ruleSet.assess(single).explanation.includes('Standard allowance £400.14: you are single and aged 25 or over.'),
    );
  });

  it('refuses to decide when a rate it needs is unconfirmed, naming the rate', async () => {
    const ruleSet = await loadRuleSet(ucDir);
    // No outlet has reproduced the 2026/27 lower rate: a disabled child's claim is refused.
    const disabledChild = {
      ...workedExample,
      assessmentDate: '2026-06-01',
      household: {
        ...workedExample.household,
        adults: [{ ...adult, monthlyNetEarnings: 0 }],
        children: [{ dateOfBirth: '2019-03-02', disability: 'lower' }],
      },
    };
    assert.throws(
      () => ruleSet.assess(disabledChild),
      (error: unknown) =>
        error instanceof EntitleError &&
        error.code === 'ENTITLE_PARAMETER_UNCONFIRMED' &&
        error.message.includes('Disabled child addition, lower rate'),
    );
  });

  it('decides with a provisional rate, and says so in the outcome and the reasons', async () => {
    const ruleSet = await loadRuleSet(ucDir);
    const carer = {
      ...workedExample,
      assessmentDate: '2026-06-01',
      household: {
        ...workedExample.household,
        adults: [{ ...adult, monthlyNetEarnings: 0, carer: true }],
        children: [],
      },
    };
    for (const level of ['none', 'reasons', 'trace'] as const) {
      const { outcome, explanation } = ruleSet.assess(carer, level);
      assert.equal(outcome.amount, 634.24);
      assert.equal(outcome.provisional, true);
      assert.deepEqual(outcome.provisionalParameters, ['carerElementAmount']);
      if (level !== 'none') assert.match(explanation.at(-1)!, /provisional rate: Carer element £209\.34/);
    }
    // The same household without a carer reads no provisional rate, and says nothing of one.
    const plain = ruleSet.assess({
      ...carer,
      household: { ...carer.household, adults: [{ ...adult, monthlyNetEarnings: 0 }] },
    });
    assert.equal(plain.outcome.provisional, undefined);
    assert.ok(!plain.explanation.some((line) => line.includes('provisional')));
    // Before April 2026 the carer element is confirmed: no mark.
    assert.equal(ruleSet.assess({ ...carer, assessmentDate: '2025-06-01' }).outcome.provisional, undefined);
  });

  it('never puts input values in its error messages', async () => {
    const ruleSet = await loadRuleSet(ucDir);
    const bad = {
      ...workedExample,
      applicationId: 'SECRET-NAME-JONES',
      household: {
        ...workedExample.household,
        capital: 'Jane Jones 1 High Street',
        adults: [{ ...adult, dateOfBirth: '31/12/1990' }],
      },
    };
    try {
      ruleSet.assess(bad);
      assert.fail('invalid input must be refused');
    } catch (error) {
      const text = JSON.stringify({ message: (error as Error).message, problems: (error as EntitleError).problems });
      for (const secret of ['Jane', '31/12/1990'])
        assert.ok(!text.includes(secret), `error text leaks ${secret}: ${text}`);
    }
  });
});
