import { EntitleError, type Problem } from '../../errors/index.ts';
import {
  EvaluationFault,
  fieldName,
  MAX_PROBLEMS,
  MissingParameter,
  unknownField,
  type Outcome,
  type ParameterSnapshot,
  type RuleProgram,
} from '../compiler/index.ts';
import { formatLongDate, formatMoney, parseIsoDate } from '../values/index.ts';
import { TraceBuilder, type Trace } from './trace.ts';

/** How much explanation an assessment carries. */
export type ExplainLevel = 'none' | 'reasons' | 'trace';

/**
 * The engine that evaluates: named in every outcome beside the rule-set hash, so a decision can be
 * replayed with the engine that made it. A test keeps the version equal to package.json's.
 */
export const ENGINE = Object.freeze({ name: 'entitle', version: '0.1.0' });

/** The assessment contract's output. */
export interface Assessment {
  readonly benefit: string;
  readonly applicationId: string;
  readonly assessmentDate: string;
  readonly ruleset: { readonly id: string; readonly hash: string };
  readonly engine: { readonly name: string; readonly version: string };
  readonly outcome: Outcome;
  readonly explanation: readonly string[];
  readonly trace?: Trace | undefined;
}

/**
 * An application reference: 1 to 64 letters, digits, dots, hyphens, underscores or slashes,
 * starting with a letter or digit. A loop rather than a regular expression: it runs for every
 * assessment and is several times faster.
 */
function isApplicationId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const alphanumeric = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alphanumeric && (i === 0 || (c !== 46 && c !== 45 && c !== 95 && c !== 47))) return false;
  }
  return true;
}

/** Given to evaluators of rules with no provisional value: they never write to it. */
const NOTHING_READ: unknown[] = Object.freeze([]) as unknown as unknown[];

const CONTRACT_FIELDS = ['benefit', 'applicationId', 'assessmentDate', 'household'];

function isContractField(key: string): boolean {
  return key === 'benefit' || key === 'applicationId' || key === 'assessmentDate' || key === 'household';
}

/**
 * A compiled rule set, ready to assess. Evaluation is a pure function of this rule set, the input
 * and the assessment date: nothing reads the clock, randomness or any other state.
 */
export class RuleSet {
  readonly id: string;
  readonly title: string;
  readonly benefit: string;
  readonly hash: string;
  private readonly traces: TraceBuilder;
  /** Shared by every outcome: the rules that made it. */
  private readonly rulesetRef: { readonly id: string; readonly hash: string };
  /** Whether any parameter is provisional on some date: only then are reads noted. */
  private readonly hasProvisional: boolean;
  /** The normaliser's error list, reused: assessments are synchronous, so one runs at a time. */
  private readonly fieldErrors: { field: string; message: string }[] & { more?: number } = [];

  constructor(readonly program: RuleProgram) {
    this.traces = new TraceBuilder(program);
    this.hasProvisional = program.parameters.parameters.some((p) => p.entries.some((e) => e.provisional));
    this.rulesetRef = Object.freeze({ id: program.id, hash: program.hash });
    this.id = program.id;
    this.title = program.title;
    this.benefit = program.benefit;
    this.hash = program.hash;
  }

  /** Assesses one application. Throws EntitleError (with every problem) for input it cannot assess. */
  assess(input: unknown, explain: ExplainLevel = 'reasons'): Assessment {
    const { normalised, day, raw } = this.validate(input);
    const { functions } = this.program;
    const snapshot = this.program.parameters.snapshotOn(day);
    const params = snapshot.values;
    // The provisional parameters read: only allocated when the rules have any.
    const read = this.hasProvisional ? [] : NOTHING_READ;
    try {
      if (explain === 'none') {
        return this.result(raw, this.finish(functions.fast(normalised, params, read), read, snapshot), []);
      }
      if (explain === 'reasons') {
        const { outcome, values } = functions.withValues(normalised, params, read);
        const finished = this.finish(outcome, read, snapshot);
        const reasons = this.withProvisional(functions.reasons(normalised, values, params), finished, snapshot);
        return this.result(raw, finished, reasons);
      }
      const { outcome, values, masks } = functions.traced(normalised, params, read);
      const finished = this.finish(outcome, read, snapshot);
      const reasons = this.withProvisional(functions.reasons(normalised, values, params), finished, snapshot);
      return this.result(raw, finished, reasons, this.traces.build(values, masks, snapshot));
    } catch (error) {
      throw this.evaluationError(error, day);
    }
  }

  /**
   * The outcome as recorded: for a rule set that reads the household model, the fields it used;
   * for one that used a provisional rate, `provisional: true` and which. Neither is added
   * otherwise, so decisions made before either existed replay to the same outcome.
   */
  private finish(outcome: Outcome, read: readonly unknown[], snapshot: ParameterSnapshot): Outcome {
    let provisional: string[] | undefined;
    for (let k = 0; k < read.length; k++)
      if (read[k] !== undefined && snapshot.entries[k]?.provisional)
        (provisional ??= []).push(this.program.parameters.parameters[k]!.name);
    // The outcome is a new object from each evaluation: set on it, not copied (this runs for
    // every assessment). Names sorted, not in parameter order: a stored bundle's parameters may
    // come back in another order (jsonb sorts keys), and a replay must say the same.
    if (provisional) {
      outcome.provisional = true;
      outcome.provisionalParameters = provisional.sort();
    }
    if (this.program.reads) outcome.fieldsUsed = this.program.reads;
    return outcome;
  }

  /** The reasons, and last, in words, that the decision rests on figures not yet confirmed. */
  private withProvisional(reasons: string[], outcome: Outcome, snapshot: ParameterSnapshot): string[] {
    const names = outcome.provisionalParameters;
    if (!names) return reasons;
    const entries = snapshot.entries;
    const figures = names.map((name) => {
      const p = this.program.parameters.byName.get(name)!;
      const value = entries[p.index]?.value;
      return `${p.label} ${p.type.t === 'money' && typeof value === 'number' ? formatMoney(value) : String(value)}`;
    });
    return [
      ...reasons,
      figures.length === 1
        ? `This decision uses a provisional rate: ${figures[0]}. It is a published figure not yet confirmed from the official source; if the confirmed rate is different, this decision will be looked at again.`
        : `This decision uses provisional rates: ${figures.join('; ')}. They are published figures not yet confirmed from the official source; if a confirmed rate is different, this decision will be looked at again.`,
    ];
  }

  /**
   * Evaluates one application and returns the outcome with every variable's value, in the order of
   * `program.variables`: what comparing two rule sets on the same application needs (shadow,
   * canary, backtest). Throws as `assess` does.
   */
  evaluate(input: unknown): { readonly outcome: Outcome; readonly values: readonly unknown[] } {
    const { normalised, day } = this.validate(input);
    const snapshot = this.program.parameters.snapshotOn(day);
    try {
      return this.program.functions.withValues(normalised, snapshot.values, this.hasProvisional ? [] : NOTHING_READ);
    } catch (error) {
      throw this.evaluationError(error, day);
    }
  }

  /** Checks the contract fields and the household; collects every problem before failing. */
  private validate(input: unknown): { normalised: Record<string, unknown>; day: number; raw: Record<string, unknown> } {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new EntitleError('ENTITLE_INPUT_INVALID', 'the assessment input must be a JSON object', [
        { message: 'send a JSON object with benefit, applicationId, assessmentDate and household' },
      ]);
    }
    // Problems are collected only when there is one: valid input allocates nothing here. (No
    // helper closure: under tsx every named closure costs a call to name it.)
    let problems: Problem[] | undefined;
    const raw = input as Record<string, unknown>;
    if (raw.benefit !== this.benefit)
      (problems ??= []).push({ field: 'benefit', message: `enter "${this.benefit}" to use this rule set` });
    if (!isApplicationId(raw.applicationId)) {
      (problems ??= []).push({
        field: 'applicationId',
        message:
          'enter the application reference: 1 to 64 letters, digits, dots, hyphens, underscores or slashes, such as APP-0001',
      });
    }
    const day = parseIsoDate(raw.assessmentDate);
    if (day === undefined)
      (problems ??= []).push({ field: 'assessmentDate', message: 'enter a date such as 2025-06-01' });
    for (const key in raw) {
      if (!isContractField(key))
        (problems ??= []).push({
          field: fieldName(key),
          message: unknownField(key, CONTRACT_FIELDS, 'part of an assessment'),
        });
    }
    const household = raw.household;
    let normalised: Record<string, unknown> = {};
    // Problems the normaliser counted but did not keep (it keeps MAX_PROBLEMS, to bound the work
    // hostile input can cause).
    let omitted = 0;
    if (household === null || typeof household !== 'object' || Array.isArray(household)) {
      (problems ??= []).push({
        field: 'household',
        message: 'enter the household as an object with adults and children',
      });
    } else {
      const errors = this.fieldErrors;
      errors.length = 0;
      errors.more = 0;
      normalised = this.program.functions.normalise(household as Record<string, unknown>, day, errors);
      for (const error of errors) (problems ??= []).push({ field: error.field, message: error.message });
      omitted = errors.more;
    }
    if (problems !== undefined || day === undefined) {
      // One cap for every problem, wherever found: list the first MAX_PROBLEMS, count the rest.
      const found = problems ?? [];
      const count = found.length + omitted;
      const listed = found.slice(0, MAX_PROBLEMS);
      if (count > listed.length) {
        const rest = count - listed.length;
        listed.push({
          message: `and ${rest} more problem${rest === 1 ? '' : 's'}: correct these and send the assessment again`,
        });
      }
      throw new EntitleError(
        'ENTITLE_INPUT_INVALID',
        `the assessment input has ${count} problem${count === 1 ? '' : 's'}`,
        listed,
      );
    }
    return { normalised, day, raw };
  }

  private result(raw: Record<string, unknown>, outcome: Outcome, explanation: string[], trace?: Trace): Assessment {
    return {
      benefit: this.benefit,
      applicationId: raw.applicationId as string,
      assessmentDate: raw.assessmentDate as string,
      ruleset: this.rulesetRef,
      engine: ENGINE,
      outcome,
      explanation,
      trace,
    };
  }

  private evaluationError(error: unknown, day: number): EntitleError {
    if (error instanceof MissingParameter) {
      const parameter = this.program.parameters.parameters[error.index]!;
      const entry = this.program.parameters.snapshotOn(day).entries[error.index];
      const on = formatLongDate(day);
      if (entry?.unconfirmed) {
        return new EntitleError(
          'ENTITLE_PARAMETER_UNCONFIRMED',
          `${parameter.label} (${parameter.name}) from ${formatLongDate(entry.from)} is not yet confirmed (${entry.source}), and this assessment needs it`,
          [
            {
              field: 'assessmentDate',
              message: `this assessment on ${on} needs ${parameter.label}, which is not yet confirmed for that date; no decision can be made until it is`,
            },
          ],
        );
      }
      const first = parameter.entries[0];
      return new EntitleError(
        'ENTITLE_PARAMETER_NO_VALUE',
        `${parameter.label} (${parameter.name}) has no value on ${on}`,
        [
          {
            field: 'assessmentDate',
            message: `${this.title} rules here start on ${first ? formatLongDate(first.from) : 'no date'}: enter an assessment date on or after that`,
          },
        ],
      );
    }
    if (error instanceof EntitleError) return error;
    if (error instanceof EvaluationFault) {
      return new EntitleError(
        'ENTITLE_EVALUATION_FAILED',
        `evaluation of ${this.id} (${this.hash}) stopped: ${error.message}`,
      );
    }
    return new EntitleError(
      'ENTITLE_EVALUATION_FAILED',
      `evaluation of ${this.id} (${this.hash}) failed: ${(error as Error).message}`,
    );
  }
}
