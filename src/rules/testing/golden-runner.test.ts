import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadRuleSet } from '../engine/index.ts';
import { runGoldenCase, type GoldenCase } from './golden.ts';

const minimal = fileURLToPath(new URL('../compiler/fixtures/good-minimal', import.meta.url));
const input = {
  benefit: 'test-benefit',
  applicationId: 'T-1',
  assessmentDate: '2025-06-01',
  household: { people: [{ dateOfBirth: '1990-01-01', earnings: 0 }], rent: 0, rooms: 1 },
};
const golden = (spec: GoldenCase['spec']): GoldenCase => ({ file: 'x.yaml', line: 1, name: 'case', input, spec });

describe('golden test runner', () => {
  it('passes a case whose amounts match to the penny', async () => {
    const ruleSet = await loadRuleSet(minimal);
    assert.equal(
      runGoldenCase(ruleSet, golden({ name: 'ok', expect: { amount: 100.0, elements: { allowance: 100.0 } } })).passed,
      true,
    );
  });

  it('fails a case one penny out, and says so', async () => {
    const ruleSet = await loadRuleSet(minimal);
    const result = runGoldenCase(ruleSet, golden({ name: 'off', expect: { amount: 100.01 } }));
    assert.equal(result.passed, false);
    assert.match(result.failures[0]!, /amount: expected 100.01, got 100.00/);
  });

  it('fails a case that expects an error the assessment does not raise', async () => {
    const ruleSet = await loadRuleSet(minimal);
    const result = runGoldenCase(ruleSet, golden({ name: 'no error', expectError: { code: 'ENTITLE_INPUT_INVALID' } }));
    assert.equal(result.passed, false);
  });
});
