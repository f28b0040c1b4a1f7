import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parametersOn, type ParameterInForce } from '../catalogue.ts';
import { findRuleSetDirs, loadRuleSet } from '../engine/index.ts';
import { parseIsoDate, parseRate, poundsToPence } from '../values/index.ts';

// Every bundled parameter's 2025/26 value (in force on 2025-04-07) is checked against the figure
// a published source prints for it: CPAG's "Means-tested benefit rates 2025/26" table (S1) where
// CPAG prints it, otherwise the source named in rulesets/cross-check/cpag-2025-26.yaml. Money is
// compared in whole pence and rates in parts per million, never as floating point. A bundled
// parameter with no entry in the cross-check file fails too, so a new parameter must be checked.
const root = fileURLToPath(new URL('../../../rulesets', import.meta.url));
const crossCheckFile = fileURLToPath(new URL('../../../rulesets/cross-check/cpag-2025-26.yaml', import.meta.url));

interface Entry {
  readonly ruleset: string;
  readonly parameter: string;
  readonly figure: string | number | boolean;
  readonly source: string;
  readonly locator: string;
  readonly notInCpag?: boolean;
  readonly reason?: string;
}

interface CrossCheck {
  readonly date: string;
  readonly sources: Record<string, { readonly title: string; readonly url?: string }>;
  readonly entries: readonly Entry[];
}

function readCrossCheck(text: string): CrossCheck {
  const data = parse(text) as unknown;
  assert.ok(data && typeof data === 'object', 'the cross-check file is a mapping');
  const { date, sources, entries } = data as Record<string, unknown>;
  assert.equal(typeof date, 'string', 'date is a quoted ISO date');
  assert.ok(sources && typeof sources === 'object', 'sources is a mapping');
  assert.ok(Array.isArray(entries), 'entries is a list');
  for (const [at, entry] of (entries as unknown[]).entries()) {
    assert.ok(entry && typeof entry === 'object', `entry ${at} is a mapping`);
    const e = entry as Record<string, unknown>;
    for (const field of ['ruleset', 'parameter', 'source', 'locator'])
      assert.equal(typeof e[field], 'string', `entry ${at} (${String(e.parameter)}) has a ${field}`);
    assert.ok(['string', 'number', 'boolean'].includes(typeof e.figure), `entry ${at} has a figure`);
  }
  return data as CrossCheck;
}

const crossCheck = readCrossCheck(await readFile(crossCheckFile, 'utf8'));
const day = parseIsoDate(crossCheck.date);
assert.ok(day !== undefined, `${crossCheck.date} is a date`);

/** "1,031.88" as printed to "1031.88"; a comma anywhere but between groups of three digits stays and fails. */
function withoutThousands(figure: string): string {
  return /^\d{1,3}(,\d{3})+(\.\d+)?$/.test(figure) ? figure.replaceAll(',', '') : figure;
}

/** The figure as the exact value parametersOn gives: pence, parts per million, an ISO date, a count or a boolean. */
function expected(parameter: ParameterInForce, figure: Entry['figure']): number | string | boolean {
  switch (parameter.unit) {
    case 'pence': {
      assert.equal(typeof figure, 'string', `${parameter.name}: a money figure is written as text, '400.14'`);
      const pence = poundsToPence(withoutThousands(figure as string));
      assert.ok(pence !== undefined, `${parameter.name}: '${String(figure)}' is not an amount in pounds`);
      return pence;
    }
    case 'parts per million': {
      assert.ok(
        typeof figure === 'string' && figure.endsWith('%'),
        `${parameter.name}: a rate figure is a percentage, '55%'`,
      );
      const ppm = parseRate(figure);
      assert.ok(ppm !== undefined, `${parameter.name}: '${figure}' is not a rate`);
      return ppm;
    }
    case 'ISO date':
      assert.ok(
        typeof figure === 'string' && parseIsoDate(figure) !== undefined,
        `${parameter.name}: a date figure is an ISO date`,
      );
      return figure;
    case 'count':
      assert.ok(Number.isSafeInteger(figure), `${parameter.name}: a count figure is a whole number`);
      return figure;
    case 'boolean':
      assert.equal(typeof figure, 'boolean', `${parameter.name}: a yes/no figure is true or false`);
      return figure;
    default:
      assert.fail(`${parameter.name}: no cross-check for a parameter in ${parameter.unit}`);
  }
}

const ruleSets = await Promise.all((await findRuleSetDirs(root)).map((dir) => loadRuleSet(dir)));
const bundled = new Map(ruleSets.map((r) => [r.id, new Set(r.program.parameters.parameters.map((p) => p.name))]));

describe('cross-check file', () => {
  it('reads both bundled rule sets', () => {
    assert.deepEqual([...bundled.keys()].sort(), ['uk-child-benefit', 'uk-universal-credit']);
  });

  it('has one entry for each parameter, each naming a bundled parameter', () => {
    const seen = new Set<string>();
    for (const entry of crossCheck.entries) {
      const key = `${entry.ruleset}.${entry.parameter}`;
      assert.ok(!seen.has(key), `${key} has more than one entry`);
      seen.add(key);
      assert.ok(bundled.get(entry.ruleset)?.has(entry.parameter), `${key} is not a bundled parameter`);
    }
  });

  it('names a known source and where in it each figure appears', () => {
    for (const entry of crossCheck.entries) {
      const key = `${entry.ruleset}.${entry.parameter}`;
      assert.ok(crossCheck.sources[entry.source], `${key}: source ${entry.source} is not listed under sources`);
      assert.ok(entry.locator.trim().length > 0, `${key}: say where the figure appears`);
      if (entry.notInCpag) assert.ok(entry.reason?.trim(), `${key}: notInCpag needs a reason`);
      else assert.equal(entry.source, 'S1', `${key}: a figure not from CPAG (S1) is marked notInCpag with a reason`);
    }
  });
});

for (const ruleSet of ruleSets) {
  const entries = new Map(crossCheck.entries.filter((e) => e.ruleset === ruleSet.id).map((e) => [e.parameter, e]));
  describe(`cross-check ${crossCheck.date}: ${ruleSet.id}`, () => {
    for (const parameter of parametersOn(ruleSet.program, day)) {
      it(parameter.name, () => {
        const entry = entries.get(parameter.name);
        assert.ok(entry, `${ruleSet.id}.${parameter.name} has no entry in ${basename(crossCheckFile)}: cross-check it`);
        assert.equal(parameter.status, 'confirmed', `${parameter.name} has no confirmed value on ${crossCheck.date}`);
        assert.equal(
          parameter.value,
          expected(parameter, entry.figure),
          `${parameter.name}: bundled ${parameter.text}, ${entry.source} prints ${String(entry.figure)} (${entry.locator})`,
        );
      });
    }
  });
}
