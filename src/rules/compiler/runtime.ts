import { ageOn, formatIsoDate, formatLongDate, formatMoney, formatRate, mulRate } from '../values/index.ts';
import { nearest, toDay, toPence } from './inputs.ts';

/** Thrown by generated code when it reads a parameter that has no usable value on the date. */
export class MissingParameter extends Error {
  constructor(readonly index: number) {
    super(`parameter ${index} has no usable value`);
    this.name = 'MissingParameter';
  }
}

const SAFE_FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * A field name from the input, as it may appear in a message: names that could carry anything
 * else (personal data, control characters, a forged log line) are not echoed.
 */
export function fieldName(name: string): string {
  return SAFE_FIELD_NAME.test(name) ? name : '(a field with an unrecognised name)';
}

/**
 * The message for a field nobody defines: the nearest known name when one is near enough, which
 * is ours to echo (the name sent is not: it could carry anything).
 */
export function unknownField(name: string, known: readonly string[], what: string): string {
  const near = nearest(name, known);
  return near ? `is not ${what}: did you mean ${near}?` : `is not ${what}: remove it, or check its spelling`;
}

/** Thrown by generated code for an evaluation that cannot give an exact answer. */
export class EvaluationFault extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationFault';
  }
}

function divisor(b: number): number {
  if (b === 0) throw new EvaluationFault('a formula divided by zero');
  return b;
}

/** Called by generated code when an amount to report is too large to be held exactly. */
function tooLarge(): never {
  throw new EvaluationFault('an amount is too large to be held exactly');
}

/** Text of a reason that reads a parameter: an unconfirmed one is said so, never guessed. */
function unlessUnconfirmed(text: () => string): string {
  try {
    return text();
  } catch (error) {
    if (error instanceof MissingParameter) return 'not yet confirmed';
    throw error;
  }
}

const ORDINALS = [
  'zeroth',
  'first',
  'second',
  'third',
  'fourth',
  'fifth',
  'sixth',
  'seventh',
  'eighth',
  'ninth',
  'tenth',
];

/**
 * Everything generated code may call. It has no clock, no randomness and no I/O, so an
 * evaluation is a pure function of the rule set, the input and the assessment date.
 */
const runtime = Object.freeze({
  mulRate,
  ageOn,
  // Both operands are safe integers, so the floating-point quotient is correctly rounded and
  // its ceiling or floor is exact (an integer quotient is represented exactly).
  ceilDiv: (a: number, b: number) => Math.ceil(a / divisor(b)),
  floorDiv: (a: number, b: number) => Math.floor(a / divisor(b)),
  tooLarge,
  unlessUnconfirmed,
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
  fieldName,
  unknownField,
});

type Outcome = {
  entitled: boolean;
  amount: number;
  period: string;
  elements: Record<string, number>;
  details?: Record<string, unknown>;
  /** The decision used a rate that is provisional on its date (see provisionalParameters). */
  provisional?: true;
  provisionalParameters?: readonly string[];
  /** The household fields the rule set read (rule sets that read the household model). */
  fieldsUsed?: readonly string[];
};
/** Every variable's value, in evaluation order; a list variable's entry is an array. */
type Values = readonly unknown[];

/** The generated module's functions: plain functions that never use `this`. */
export interface ProgramFunctions {
  /** Collects at most MAX_PROBLEMS problems in `errors`, counting the rest in `errors.more`. */
  readonly normalise: (
    household: Record<string, unknown>,
    assessmentDay: number | undefined,
    errors: { field: string; message: string }[] & { more?: number },
  ) => Record<string, unknown>;
  /** `read`: where each read of a parameter that is provisional on some date is noted (read[k] = 1). */
  readonly fast: (input: Record<string, unknown>, params: readonly unknown[], read: unknown[]) => Outcome;
  readonly withValues: (
    input: Record<string, unknown>,
    params: readonly unknown[],
    read: unknown[],
  ) => { outcome: Outcome; values: Values };
  /** Also returns, per variable, a mask of the parameters it read (see RuleProgram.traceCandidates). */
  readonly traced: (
    input: Record<string, unknown>,
    params: readonly unknown[],
    read: unknown[],
  ) => { outcome: Outcome; values: Values; masks: readonly number[] };
  readonly reasons: (input: Record<string, unknown>, values: Values, params: readonly unknown[]) => string[];
}

/**
 * Turns generated source into functions. The source comes only from the compiler's own
 * templates and validated names; rule-set text reaches it only as JSON string literals.
 */
export function linkProgram(source: string, engine?: EngineOverrides): ProgramFunctions {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- compiled rules, see above
  const link = new Function('rt', source) as (rt: typeof runtime) => ProgramFunctions;
  return link(engine ? Object.freeze({ ...runtime, ...engine }) : runtime);
}

/**
 * Runtime functions replaced, as a different build of the engine would have them: how the replay
 * check is shown to catch an engine that computes differently with the same rules. Never used by
 * the service itself.
 */
export type EngineOverrides = Partial<typeof runtime>;

export type { Outcome, Values };
