import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatProblem } from '../../errors/index.ts';
import { compileRuleSetDir } from '../engine/index.ts';

const fixtures = fileURLToPath(new URL('./fixtures', import.meta.url));

/**
 * Each bad fixture lists in expected.txt the problems it must produce, one a line:
 * `file:line[:column] words the message contains`. Every one must be reported in one compile.
 */
describe('compiling rule sets', () => {
  for (const name of readdirSync(fixtures).sort()) {
    const dir = join(fixtures, name);
    if (name.startsWith('good-')) {
      it(`${name} compiles`, async () => {
        const result = await compileRuleSetDir(dir);
        assert.equal(result.ok, true, result.ok ? '' : result.problems.map(formatProblem).join('\n'));
      });
      continue;
    }
    it(`${name} reports every problem with its location`, async () => {
      const result = await compileRuleSetDir(dir);
      assert.equal(result.ok, false, 'a bad rule set must not compile');
      if (result.ok) return;
      const reported = result.problems.map(formatProblem);
      const expected = readFileSync(join(dir, 'expected.txt'), 'utf8').trim().split('\n');
      for (const line of expected) {
        const [where = '', ...words] = line.split(' ');
        const text = words.join(' ');
        const found = reported.some((r) => r.includes(`/${where}: `) && r.includes(text));
        assert.ok(found, `expected "${line}" among:\n${reported.join('\n')}`);
      }
    });
  }
});
