import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { z } from 'zod';
import { EntitleError, formatProblem, type Problem } from '../../errors/index.ts';
import { checkShape, parseYamlSource, type Locator } from '../format/index.ts';
import type { Assessment, RuleSet } from '../engine/index.ts';
import { poundsToPence } from '../values/index.ts';

/**
 * Golden tests: YAML cases per rule set (in its `tests/` folder), each an input and the exact
 * outcome expected. Amounts are compared in pence with an error margin of 0.
 */
const expectation = z.strictObject({
  entitled: z.boolean().optional(),
  amount: z.number().optional(),
  period: z.enum(['week', 'month', 'year']).optional(),
  elements: z.record(z.string(), z.number()).optional(),
  details: z.record(z.string(), z.union([z.number(), z.boolean(), z.string()])).optional(),
  explanation: z.array(z.string()).optional(),
  /** The provisional parameters the decision uses, by name; [] for none. Required when it uses any. */
  provisional: z.array(z.string()).optional(),
});
const expectedError = z.strictObject({
  code: z.string().regex(/^ENTITLE_[A-Z_]+$/),
  fields: z.array(z.string()).optional(),
  messageContains: z.string().optional(),
});
const testCase = z
  .strictObject({
    name: z.string().min(1),
    note: z.string().optional(),
    assessmentDate: z.string().optional(),
    household: z.record(z.string(), z.unknown()).optional(),
    input: z.record(z.string(), z.unknown()).optional(),
    expect: expectation.optional(),
    expectError: expectedError.optional(),
  })
  .refine((c) => (c.expect === undefined) !== (c.expectError === undefined), {
    message: 'give either expect or expectError',
  });
const testFile = z.strictObject({
  description: z.string().optional(),
  defaults: z
    .strictObject({
      benefit: z.string().optional(),
      assessmentDate: z.string().optional(),
      household: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  cases: z.array(testCase).min(1),
});

type TestCase = z.infer<typeof testCase>;

export interface GoldenCase {
  readonly file: string;
  readonly line: number;
  readonly name: string;
  readonly input: Record<string, unknown>;
  readonly spec: TestCase;
}

export interface GoldenResult {
  readonly case: GoldenCase;
  readonly passed: boolean;
  readonly failures: readonly string[];
}

/** Reads every test file in `dir/tests`; shape problems come back located, all at once. */
export async function readGoldenCases(dir: string, ruleSet: Pick<RuleSet, 'benefit'>): Promise<GoldenCase[]> {
  const testsDir = join(dir, 'tests');
  const names = (await readdir(testsDir).catch(() => [] as string[])).filter((n) => n.endsWith('.yaml')).sort();
  const cases: GoldenCase[] = [];
  const problems: Problem[] = [];
  for (const name of names) {
    const path = join(testsDir, name);
    const display = relative(process.cwd(), path) || path;
    const source = parseYamlSource(display, await readFile(path, 'utf8'));
    problems.push(...source.problems);
    if (source.problems.length > 0) continue;
    const { value, issues } = checkShape(testFile, source.data);
    for (const issue of issues) problems.push(source.locator.at(issue.path, issue.message));
    if (!value) continue;
    value.cases.forEach((spec, index) =>
      cases.push(toCase(spec, index, value.defaults, ruleSet.benefit, display, source.locator)),
    );
  }
  if (problems.length > 0)
    throw new EntitleError(
      'ENTITLE_GOLDEN_TEST_INVALID',
      `the golden tests in ${testsDir} have ${problems.length} problem(s)`,
      problems,
    );
  return cases;
}

function toCase(
  spec: TestCase,
  index: number,
  defaults: z.infer<typeof testFile>['defaults'],
  benefit: string,
  file: string,
  locator: Locator,
): GoldenCase {
  // A case gives either a whole input, or the parts that differ from the file's defaults.
  const input = spec.input ?? {
    benefit: defaults?.benefit ?? benefit,
    applicationId: `GOLDEN-${index + 1}`,
    assessmentDate: spec.assessmentDate ?? defaults?.assessmentDate,
    household: { ...(defaults?.household ?? {}), ...(spec.household ?? {}) },
  };
  const line = locator.at(['cases', index], '').line ?? 0;
  return { file, line, name: spec.name, input, spec };
}

/** Runs one case; every difference from the expectation is reported, not just the first. */
export function runGoldenCase(ruleSet: RuleSet, golden: GoldenCase): GoldenResult {
  const failures: string[] = [];
  let result: Assessment | undefined;
  let error: EntitleError | undefined;
  try {
    result = ruleSet.assess(golden.input, 'reasons');
  } catch (caught) {
    if (!(caught instanceof EntitleError)) throw caught;
    error = caught;
  }
  const { expect, expectError } = golden.spec;
  if (expectError) {
    if (!error)
      failures.push(`expected error ${expectError.code}, but the assessment succeeded with ${result?.outcome.amount}`);
    else {
      if (error.code !== expectError.code)
        failures.push(`expected error ${expectError.code}, got ${error.code}: ${error.message}`);
      const fields = error.problems.map((p) => p.field);
      for (const field of expectError.fields ?? [])
        if (!fields.includes(field))
          failures.push(`expected a problem with ${field}; got ${fields.join(', ') || 'none'}`);
      const text = [error.message, ...error.problems.map(formatProblem)].join('\n');
      if (expectError.messageContains && !text.includes(expectError.messageContains))
        failures.push(`expected the error to mention "${expectError.messageContains}"; it said: ${text}`);
    }
    return { case: golden, passed: failures.length === 0, failures };
  }
  if (error || !result || !expect) {
    failures.push(
      `expected an outcome, got ${error?.code ?? 'nothing'}: ${error ? [error.message, ...error.problems.map(formatProblem)].join('; ') : ''}`,
    );
    return { case: golden, passed: false, failures };
  }
  const outcome = result.outcome;
  const money = (label: string, want: number, got: unknown) => {
    if (typeof got !== 'number' || poundsToPence(got) !== poundsToPence(want))
      failures.push(
        `${label}: expected ${want.toFixed(2)}, got ${typeof got === 'number' ? got.toFixed(2) : String(got)}`,
      );
  };
  if (expect.entitled !== undefined && outcome.entitled !== expect.entitled)
    failures.push(`entitled: expected ${expect.entitled}, got ${outcome.entitled}`);
  if (expect.amount !== undefined) money('amount', expect.amount, outcome.amount);
  if (expect.period !== undefined && outcome.period !== expect.period)
    failures.push(`period: expected ${expect.period}, got ${outcome.period}`);
  for (const [name, want] of Object.entries(expect.elements ?? {})) {
    if (!(name in outcome.elements)) failures.push(`elements.${name}: not an element of this rule set`);
    else money(`elements.${name}`, want, outcome.elements[name]);
  }
  for (const [name, want] of Object.entries(expect.details ?? {})) {
    const got = outcome.details?.[name];
    if (got === undefined) failures.push(`details.${name}: not a detail of this rule set`);
    else if (typeof want === 'number') money(`details.${name}`, want, got);
    else if (got !== want) failures.push(`details.${name}: expected ${String(want)}, got ${JSON.stringify(got)}`);
  }
  // A case that meets a provisional rate must say so: a golden test never passes on a figure
  // nobody has confirmed without naming it.
  const provisional = [...(outcome.provisionalParameters ?? [])].sort();
  if (expect.provisional === undefined && provisional.length > 0)
    failures.push(`the decision uses provisional rates (${provisional.join(', ')}): name them with provisional: [...]`);
  else if (expect.provisional !== undefined && [...expect.provisional].sort().join() !== provisional.join())
    failures.push(`provisional: expected [${expect.provisional.join(', ')}], got [${provisional.join(', ')}]`);
  for (const text of expect.explanation ?? []) {
    if (!result.explanation.some((line) => line.includes(text)))
      failures.push(`explanation: no reason contains "${text}"; reasons were:\n  ${result.explanation.join('\n  ')}`);
  }
  return { case: golden, passed: failures.length === 0, failures };
}
