import { ageOn, formatIsoDate, formatLongDate, formatMoney, formatRate, mulRate } from '../values/index.ts';
import { toDay, toPence } from './inputs.ts';

/** Thrown by generated code when it reads a parameter that has no usable value on the date. */
export class MissingParameter extends Error {
  constructor(readonly index: number) {
    super(`parameter ${index} has no usable value`);
    this.name = 'MissingParameter';
  }
}

const ORDINALS = ['zeroth', 'first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth'];

/**
 * Everything generated code may call. It has no clock, no randomness and no I/O, so an
 * evaluation is a pure function of the rule set, the input and the assessment date.
 */
const runtime = Object.freeze({
  mulRate,
  ageOn,
  // Both operands are safe integers, so the floating-point quotient is correctly rounded and
  // its ceiling or floor is exact (an integer quotient is represented exactly).
  ceilDiv: (a: number, b: number) => Math.ceil(a / b),
  floorDiv: (a: number, b: number) => Math.floor(a / b),
  ordinal: (n: number) => ORDINALS[n] ?? `${n}th`,
  U: (index: number): never => {
    throw new MissingParameter(index);
  },
  toPence,
  toDay,
  fmtMoney: formatMoney,
  fmtDate: formatLongDate,
  fmtRate: formatRate,
  fmtIso: formatIsoDate,
});

type Outcome = { entitled: boolean; amount: number; period: string; elements: Record<string, number>; details?: Record<string, unknown> };
/** Every variable's value, in evaluation order; a list variable's entry is an array. */
type Values = readonly unknown[];

/** The generated module's functions: plain functions that never use `this`. */
export interface ProgramFunctions {
  readonly normalise: (household: Record<string, unknown>, assessmentDay: number | undefined, errors: { field: string; message: string }[]) => Record<string, unknown>;
  readonly fast: (input: Record<string, unknown>, params: readonly unknown[]) => Outcome;
  readonly withValues: (input: Record<string, unknown>, params: readonly unknown[]) => { outcome: Outcome; values: Values };
  /** Also returns, per variable, a mask of the parameters it read (see RuleProgram.traceCandidates). */
  readonly traced: (input: Record<string, unknown>, params: readonly unknown[]) => { outcome: Outcome; values: Values; masks: readonly number[] };
  readonly reasons: (input: Record<string, unknown>, values: Values, params: readonly unknown[]) => string[];
}

/**
 * Turns generated source into functions. The source comes only from the compiler's own
 * templates and validated names; rule-set text reaches it only as JSON string literals.
 */
export function linkProgram(source: string): ProgramFunctions {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- compiled rules, see above
  const link = new Function('rt', source) as (rt: typeof runtime) => ProgramFunctions;
  return link(runtime);
}

export type { Outcome, Values };
