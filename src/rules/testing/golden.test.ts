import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findRuleSetDirs, loadRuleSet } from '../engine/index.ts';
import { readGoldenCases, runGoldenCase } from './golden.ts';

// Every golden case of every bundled rule set runs as its own test, so `npm test` fails on the
// first penny out and names the case and its file and line.
const root = fileURLToPath(new URL('../../../rulesets', import.meta.url));

for (const dir of await findRuleSetDirs(root)) {
  const ruleSet = await loadRuleSet(dir);
  const cases = await readGoldenCases(dir, ruleSet);
  describe(`golden tests: ${ruleSet.id}`, () => {
    for (const golden of cases) {
      it(`${golden.name} (${golden.file}:${golden.line})`, () => {
        const result = runGoldenCase(ruleSet, golden);
        assert.ok(result.passed, result.failures.join('\n'));
      });
    }
  });
}

describe('golden test counts', () => {
  it('Universal Credit has at least 40 cases', async () => {
    const dir = (await findRuleSetDirs(root)).find((d) => d.endsWith('uk-universal-credit'));
    assert.ok(dir);
    const ruleSet = await loadRuleSet(dir);
    assert.ok((await readGoldenCases(dir, ruleSet)).length >= 40);
  });
});
