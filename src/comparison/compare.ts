import { EntitleError } from '../errors/index.ts';
import type { Outcome, RuleSet } from '../rules/index.ts';
import type { Expectations, ExpectedChange } from './expectations.ts';

/** How a comparison of the active and the candidate rule set on one application came out. */
export type ComparisonKind =
  'identical' | 'expected' | 'unexpected' | 'candidate_error' | 'active_error' | 'both_error';

/**
 * One variable that differs. `cause` says why it is or is not expected:
 * - `declared`: the release declares this change and it is within its bounds;
 * - `follows`: it reads a variable that differs, so it changes as a consequence;
 * - `out_of_bounds`: declared, but the change is larger, or goes the other way;
 * - `undeclared`: nothing in the declaration covers it.
 */
export interface Difference {
  readonly variable: string;
  /** For a variable worked out per entry of a list (each child, say), which entry. */
  readonly index?: number;
  readonly active: unknown;
  readonly candidate: unknown;
  readonly cause: 'declared' | 'follows' | 'out_of_bounds' | 'undeclared';
  readonly why?: string;
}

export interface Comparison {
  readonly kind: ComparisonKind;
  readonly differences: readonly Difference[];
  /** The award in pence under each rule set; undefined where that rule set failed. */
  readonly activeAward?: number;
  readonly candidateAward?: number;
  /** The error code where a rule set failed. */
  readonly activeError?: string;
  readonly candidateError?: string;
}

interface SharedVariable {
  readonly name: string;
  readonly active: number;
  readonly candidate: number;
  /** Indexes (in the shared list) of the shared variables this one reads in the candidate. */
  readonly reads: readonly number[];
  readonly expected: ExpectedChange | undefined;
}

/**
 * Compares the active and a candidate rule set on the same applications, variable by variable.
 * Variables are matched by name; those only one rule set has are not compared themselves, but
 * their effect shows in the variables both have and in the outcome. A difference is expected
 * when the release declares it (within its bounds) or when it follows from another difference:
 * the award rises because the standard allowance it adds up did. A variable whose own formula
 * changed as well as one it reads is counted as following from it; the declared upstream
 * change is then the one to check.
 */
export class Comparator {
  private readonly shared: readonly SharedVariable[];

  constructor(
    readonly active: RuleSet,
    readonly candidate: RuleSet,
    readonly expectations: Expectations,
  ) {
    const activeIndex = new Map(active.program.variables.map((v, i) => [v.name, i]));
    const declared = new Map(expectations.changes.map((c) => [c.variable, c]));
    const shared: {
      name: string;
      active: number;
      candidate: number;
      readsNames: readonly string[];
      expected: ExpectedChange | undefined;
    }[] = [];
    candidate.program.variables.forEach((variable, i) => {
      const a = activeIndex.get(variable.name);
      if (a === undefined || active.program.variables[a]!.list !== variable.list) return;
      shared.push({
        name: variable.name,
        active: a,
        candidate: i,
        readsNames: variable.reads,
        expected: declared.get(variable.name),
      });
    });
    // Candidate evaluation order is a topological order, so each variable's reads come first.
    const position = new Map(shared.map((s, i) => [s.name, i]));
    this.shared = shared.map((s) => ({
      ...s,
      reads: s.readsNames.flatMap((name) => (position.has(name) ? [position.get(name)!] : [])),
    }));
  }

  /** Evaluates both on one application (its own assessment date, or `on` to preview another). */
  compare(input: unknown, on?: string): Comparison {
    const application = on === undefined ? input : { ...(input as Record<string, unknown>), assessmentDate: on };
    return this.compareEvaluations(
      evaluateSafely(this.active, application),
      evaluateSafely(this.candidate, application),
    );
  }

  /** Compares two evaluations already made, either of which may have failed. */
  compareEvaluations(a: Evaluation, c: Evaluation): Comparison {
    if ('error' in a || 'error' in c) {
      const kind: ComparisonKind =
        'error' in a && 'error' in c ? 'both_error' : 'error' in a ? 'active_error' : 'candidate_error';
      return {
        kind,
        differences: [],
        ...('error' in a ? { activeError: a.error } : { activeAward: awardPence(a.outcome) }),
        ...('error' in c ? { candidateError: c.error } : { candidateAward: awardPence(c.outcome) }),
      };
    }
    return this.compareValues(a.values, c.values, a.outcome, c.outcome);
  }

  /** Compares the values of two successful evaluations of the same application. */
  compareValues(
    activeValues: readonly unknown[],
    candidateValues: readonly unknown[],
    activeOutcome: Outcome,
    candidateOutcome: Outcome,
  ): Comparison {
    const differences: Difference[] = [];
    const differs = new Uint8Array(this.shared.length);
    let unexpected = false;
    for (let i = 0; i < this.shared.length; i++) {
      const variable = this.shared[i]!;
      const before = activeValues[variable.active];
      const after = candidateValues[variable.candidate];
      if (sameValue(before, after)) continue;
      differs[i] = 1;
      const follows = variable.reads.some((r) => differs[r] === 1);
      const pairs =
        Array.isArray(before) && Array.isArray(after) && before.length === after.length
          ? before.map((b, k) => [b, after[k], k] as const)
          : [[before, after, undefined] as const];
      for (const [b, n, index] of pairs) {
        if (sameValue(b, n)) continue;
        const cause = classify(variable.expected, b, n, follows);
        if (cause === 'out_of_bounds' || cause === 'undeclared') unexpected = true;
        differences.push({
          variable: variable.name,
          ...(index !== undefined ? { index } : {}),
          active: b,
          candidate: n,
          cause,
          ...(variable.expected ? { why: variable.expected.why } : {}),
        });
      }
    }
    const activeAward = awardPence(activeOutcome);
    const candidateAward = awardPence(candidateOutcome);
    const outcomeDiffers = activeAward !== candidateAward || activeOutcome.entitled !== candidateOutcome.entitled;
    if (outcomeDiffers && differences.length === 0) {
      // The outcome changed but no variable both rule sets have did: nothing explains it.
      differences.push({
        variable: 'outcome.amount',
        active: activeAward,
        candidate: candidateAward,
        cause: 'undeclared',
      });
      unexpected = true;
    }
    const kind: ComparisonKind = unexpected ? 'unexpected' : differences.length > 0 ? 'expected' : 'identical';
    return { kind, differences, activeAward, candidateAward };
  }
}

/** One rule set's evaluation of one application: its values, or the code of the error it raised. */
export type Evaluation =
  { readonly outcome: Outcome; readonly values: readonly unknown[] } | { readonly error: string };

/** Evaluates without throwing: a failure is a result to compare, not an exception. */
export function evaluateSafely(ruleSet: RuleSet, input: unknown): Evaluation {
  try {
    return ruleSet.evaluate(input);
  } catch (error) {
    return { error: error instanceof EntitleError ? error.code : 'ENTITLE_EVALUATION_FAILED' };
  }
}

/**
 * The award in pence. Outcomes carry pounds as a display form with at most two decimals, made
 * from exact pence, so rounding the hundredfold recovers those pence exactly.
 */
export function awardPence(outcome: Outcome): number {
  return Math.round(outcome.amount * 100);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  return false;
}

function classify(
  expected: ExpectedChange | undefined,
  before: unknown,
  after: unknown,
  follows: boolean,
): Difference['cause'] {
  if (!expected) return follows ? 'follows' : 'undeclared';
  if (typeof before !== 'number' || typeof after !== 'number') return 'declared';
  if (expected.direction === 'rise' && after < before) return 'out_of_bounds';
  if (expected.direction === 'fall' && after > before) return 'out_of_bounds';
  const change = Math.abs(after - before);
  if (expected.maxPence !== undefined && change > expected.maxPence) return 'out_of_bounds';
  // Integer arithmetic: change / |before| <= basis points / 10,000. A value rising from zero
  // has no percentage, so a percentage bound does not allow it.
  if (expected.maxBasisPoints !== undefined && change * 10_000 > expected.maxBasisPoints * Math.abs(before))
    return 'out_of_bounds';
  return 'declared';
}
