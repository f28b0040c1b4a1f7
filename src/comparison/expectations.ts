import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { EntitleError, type Problem } from '../errors/index.ts';
import { checkShape, parseYamlSource, poundsToPence, type RuleProgram } from '../rules/index.ts';

/**
 * A release's declaration of the changes it is expected to make. A difference between the active
 * and the candidate rule set is expected only when the declaration covers it; a release that
 * declares nothing expects no difference at all (an engine upgrade or a refactor).
 */
const change = z.strictObject({
  variable: z.string().min(1),
  /** Which way the value may move; `either` by default. */
  direction: z.enum(['rise', 'fall', 'either']).optional(),
  /** The largest change allowed, as a percentage of the active value (7 means 7%). */
  maxPercent: z.number().positive().optional(),
  /** The largest change allowed, in pounds (money variables only). */
  maxAmount: z.union([z.number(), z.string()]).optional(),
  /** Why it changes, in plain English: shown beside each expected difference. */
  why: z.string().min(1),
});
const declaration = z.strictObject({
  changes: z.array(change).default([]),
});

export interface ExpectedChange {
  readonly variable: string;
  readonly direction: 'rise' | 'fall' | 'either';
  /** Hundredths of a percent (basis points): 7% is 700. */
  readonly maxBasisPoints?: number;
  /** Pence. */
  readonly maxPence?: number;
  readonly why: string;
}

export interface Expectations {
  readonly changes: readonly ExpectedChange[];
}

export const NO_CHANGES: Expectations = Object.freeze({ changes: Object.freeze([]) });

const NUMERIC = new Set(['money', 'int', 'rate']);

/** Reads and checks a declaration file against the candidate it describes; reports every problem. */
export async function readExpectations(path: string, candidate: RuleProgram): Promise<Expectations> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new EntitleError(
      'ENTITLE_EXPECTATIONS_INVALID',
      `the expected changes file ${basename(path)} could not be read`,
      [
        {
          field: 'expect',
          message: 'give the path of a YAML file listing the expected changes (see docs/releasing-rules.md)',
        },
      ],
    );
  }
  return parseExpectations(basename(path), text, candidate);
}

export function parseExpectations(file: string, text: string, candidate: RuleProgram): Expectations {
  const source = parseYamlSource(file, text);
  if (source.problems.length > 0) throw invalid(file, source.problems);
  const { value, issues } = checkShape(declaration, source.data ?? {});
  const problems: Problem[] = issues.map((issue) => source.locator.at(issue.path, issue.message));
  if (!value) throw invalid(file, problems);
  const variables = new Map(candidate.variables.map((v) => [v.name, v]));
  const seen = new Set<string>();
  const changes = value.changes.map((spec, i): ExpectedChange => {
    const at = (key: string, message: string) => problems.push(source.locator.at(['changes', i, key], message));
    const variable = variables.get(spec.variable);
    if (!variable) at('variable', `${spec.variable} is not a variable of ${candidate.id}; check the spelling`);
    if (seen.has(spec.variable)) at('variable', `${spec.variable} is declared twice; declare each variable once`);
    seen.add(spec.variable);
    const type = variable?.type.t;
    if (variable && spec.direction && spec.direction !== 'either' && !NUMERIC.has(type!) && type !== 'date') {
      at('direction', `${spec.variable} is ${type}, which does not rise or fall; remove direction`);
    }
    if (variable && spec.maxPercent !== undefined && !NUMERIC.has(type!))
      at('maxPercent', `${spec.variable} is ${type}, not a number; remove maxPercent`);
    let maxPence: number | undefined;
    if (spec.maxAmount !== undefined) {
      maxPence = poundsToPence(spec.maxAmount);
      if (maxPence === undefined || maxPence < 0)
        at('maxAmount', 'enter an amount in pounds with at most two decimals, such as 25.00');
      if (variable && type !== 'money') at('maxAmount', `${spec.variable} is ${type}, not money; use maxPercent`);
    }
    return {
      variable: spec.variable,
      direction: spec.direction ?? 'either',
      ...(spec.maxPercent !== undefined ? { maxBasisPoints: Math.round(spec.maxPercent * 100) } : {}),
      ...(maxPence !== undefined ? { maxPence } : {}),
      why: spec.why,
    };
  });
  if (problems.length > 0) throw invalid(file, problems);
  return { changes };
}

function invalid(file: string, problems: readonly Problem[]): EntitleError {
  return new EntitleError(
    'ENTITLE_EXPECTATIONS_INVALID',
    `the expected changes in ${file} have ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
    [...problems],
  );
}
