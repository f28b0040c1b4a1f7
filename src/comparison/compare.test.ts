import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import type { EntitleError } from '../errors/index.ts';
import type { RuleSet } from '../rules/index.ts';
import { beforeUprating, compile, taper, ucBundle, uprating, UPRATING_DECLARATION } from '../testing/index.ts';
import { Comparator, NO_CHANGES, parseExpectations } from './index.ts';

const example = JSON.parse(
  await readFile(new URL('../../examples/universal-credit.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

describe('comparing a candidate with the active rule set', () => {
  let active: RuleSet, candidate: RuleSet, badTaper: RuleSet;
  before(async () => {
    const bundle = await ucBundle();
    active = compile(beforeUprating(bundle));
    candidate = compile(uprating(bundle));
    badTaper = compile(taper(bundle, '56%'));
  });

  it('finds no difference between a rule set and itself (the A/A check)', () => {
    const result = new Comparator(active, compile(active.program.bundle), NO_CHANGES).compare(example);
    assert.equal(result.kind, 'identical');
    assert.deepEqual(result.differences, []);
  });

  it('calls an undeclared taper change unexpected, naming the variable it starts from', () => {
    const result = new Comparator(active, badTaper, NO_CHANGES).compare(example);
    assert.equal(result.kind, 'unexpected');
    const roots = result.differences.filter((d) => d.cause === 'undeclared');
    assert.deepEqual(
      roots.map((d) => d.variable),
      ['earnedIncomeDeduction'],
    );
    assert.equal(result.activeAward, 76492);
    assert.equal(result.candidateAward, 75676); // 55% -> 56% of £816.00 = £8.16 less
    assert.ok(result.differences.some((d) => d.variable === 'award' && d.cause === 'follows'));
  });

  it('accepts the declared uprating at its effective date, and what follows from it', () => {
    const expectations = parseExpectations('uprating.yaml', UPRATING_DECLARATION, candidate.program);
    const comparator = new Comparator(active, candidate, expectations);
    assert.equal(comparator.compare(example).kind, 'identical'); // June 2025: both use 2025/26 rates
    const previewed = comparator.compare(example, '2026-04-06');
    assert.equal(previewed.kind, 'expected');
    assert.ok(
      previewed.differences.some(
        (d) =>
          d.variable === 'standardAllowance' && d.cause === 'declared' && d.active === 62810 && d.candidate === 66697,
      ),
    );
  });

  it('calls a declared change outside its bounds unexpected', () => {
    const tight = parseExpectations(
      'tight.yaml',
      UPRATING_DECLARATION.replace('maxPercent: 7', 'maxPercent: 5'),
      candidate.program,
    );
    const result = new Comparator(active, candidate, tight).compare(example, '2026-04-06');
    assert.equal(result.kind, 'unexpected'); // 628.10 -> 666.97 is 6.2%
    assert.ok(result.differences.some((d) => d.variable === 'standardAllowance' && d.cause === 'out_of_bounds'));
    const falling = parseExpectations(
      'fall.yaml',
      UPRATING_DECLARATION.replace('direction: rise\n    maxPercent: 7', 'direction: fall'),
      candidate.program,
    );
    assert.equal(new Comparator(active, candidate, falling).compare(example, '2026-04-06').kind, 'unexpected');
  });

  it('counts a candidate that cannot decide where the active can as a candidate error', async () => {
    // The bundled rule set leaves the 2026/27 work allowance unconfirmed: it fails closed.
    const bundled = compile(await ucBundle());
    const result = new Comparator(active, bundled, NO_CHANGES).compare(example, '2026-04-06');
    assert.equal(result.kind, 'candidate_error');
    assert.equal(result.candidateError, 'ENTITLE_PARAMETER_UNCONFIRMED');
    assert.equal(result.activeAward, 76492);
  });

  it('reports every problem of a declaration with its line', () => {
    const text =
      'changes:\n  - variable: standardAllowence\n    why: typo\n  - variable: entitled\n    maxPercent: 5\n    why: not a number\n  - variable: award\n    maxAmount: 1.234\n    why: too precise\n';
    assert.throws(
      () => parseExpectations('bad.yaml', text, candidate.program),
      (error: EntitleError) => {
        assert.equal(error.code, 'ENTITLE_EXPECTATIONS_INVALID');
        const lines = error.problems.map((p) => `${p.line}: ${p.message}`);
        assert.ok(
          lines.some((l) => l.startsWith('2:') && l.includes('standardAllowence is not a variable')),
          lines.join('\n'),
        );
        assert.ok(
          lines.some((l) => l.startsWith('5:') && l.includes('not a number')),
          lines.join('\n'),
        );
        assert.ok(
          lines.some((l) => l.startsWith('8:') && l.includes('two decimals')),
          lines.join('\n'),
        );
        return true;
      },
    );
    assert.throws(
      () => parseExpectations('shape.yaml', 'changes:\n  - variable: award\n', candidate.program),
      /why is required|1 problem/,
    );
  });
});
