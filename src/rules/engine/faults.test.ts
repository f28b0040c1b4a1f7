import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EntitleError } from '../../errors/index.ts';
import { ENGINE } from './rule-set.ts';
import { loadRuleSet } from './load.ts';

const minimal = fileURLToPath(new URL('../compiler/fixtures/good-minimal', import.meta.url));
const base = { benefit: 'test-benefit', applicationId: 'T-1', assessmentDate: '2025-06-01' };
const household = { people: [{ dateOfBirth: '1990-01-01', earnings: 0 }], rent: 0, rooms: 1 };

function refused(fn: () => unknown, code: string): EntitleError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof EntitleError, `expected an EntitleError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('assessing hostile or impossible input', () => {
  it('lists at most 50 problems, and counts the rest', async () => {
    const ruleSet = await loadRuleSet(minimal);
    const junk = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`junk${i}`, i]));
    const error = refused(
      () => ruleSet.assess({ ...base, household: { ...household, ...junk } }),
      'ENTITLE_INPUT_INVALID',
    );
    assert.equal(error.problems.length, 51);
    assert.match(error.problems[50]!.message, /and 9950 more problems/);
    assert.match(error.message, /10000 problems/);
    const topLevel = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`extra${i}`, i]));
    const capped = refused(() => ruleSet.assess({ ...base, ...topLevel, household }), 'ENTITLE_INPUT_INVALID');
    assert.equal(capped.problems.length, 51);
    assert.match(capped.problems[50]!.message, /and 50 more problems/);
  });

  it('never echoes a field name that could carry anything but a name', async () => {
    const ruleSet = await loadRuleSet(minimal);
    const forged = 'x\nerror ENTITLE_NONE: forged line';
    const long = 'a'.repeat(10_000);
    const error = refused(
      () => ruleSet.assess({ ...base, [forged]: 1, household: { ...household, [long]: 1, 'Jane Smith': 1 } }),
      'ENTITLE_INPUT_INVALID',
    );
    const text = JSON.stringify(error.problems);
    assert.ok(!text.includes('forged') && !text.includes(long) && !text.includes('Jane'), text);
    assert.equal(error.problems.filter((p) => p.field === '(a field with an unrecognised name)').length, 3);
  });

  it('refuses amounts with more than 2 decimal places, however small the excess', async () => {
    const ruleSet = await loadRuleSet(minimal);
    for (const rent of [100.001, 6000.0000001, 0.000001]) {
      const error = refused(
        () => ruleSet.assess({ ...base, household: { ...household, rent } }),
        'ENTITLE_INPUT_INVALID',
      );
      assert.equal(error.problems[0]!.field, 'rent');
    }
    assert.equal(ruleSet.assess({ ...base, household: { ...household, rent: 1500.01 } }).outcome.amount, 1600.01);
  });

  it('stops with ENTITLE_EVALUATION_FAILED rather than divide by zero', async () => {
    const ruleSet = await loadRuleSet(minimal);
    const error = refused(
      () => ruleSet.assess({ ...base, household: { ...household, rent: 100, rooms: 0 } }),
      'ENTITLE_EVALUATION_FAILED',
    );
    assert.match(error.message, /divided by zero/);
  });

  it('stops with ENTITLE_EVALUATION_FAILED rather than report an amount it cannot hold exactly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-overflow-'));
    try {
      await cp(minimal, dir, { recursive: true });
      const path = join(dir, 'ruleset.yaml');
      await writeFile(
        path,
        (await readFile(path, 'utf8')).replace(
          "formula: 'max(0, allowance + rent - deduction)'",
          "formula: 'rent * 1000000000 * 1000'",
        ),
      );
      const ruleSet = await loadRuleSet(dir);
      refused(
        () => ruleSet.assess({ ...base, household: { ...household, rent: 1000000 } }),
        'ENTITLE_EVALUATION_FAILED',
      );
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('says a rate in a reason is not yet confirmed, and still makes the decision that does not need it', async () => {
    const ruleSet = await loadRuleSet(minimal);
    const input = { ...base, assessmentDate: '2026-06-01', household };
    const none = ruleSet.assess(input, 'none');
    const explained = ruleSet.assess(input, 'trace');
    assert.deepEqual(explained.outcome, none.outcome);
    assert.ok(
      explained.explanation.includes('The couple rate is not yet confirmed.'),
      explained.explanation.join('\n'),
    );
  });

  it('names the engine and its version in every outcome, the same as package.json', async () => {
    const ruleSet = await loadRuleSet(minimal);
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    assert.equal(ENGINE.version, pkg.version);
    assert.deepEqual(ruleSet.assess({ ...base, household }).engine, { name: 'entitle', version: pkg.version });
  });
});
