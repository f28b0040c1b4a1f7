import type { CompiledVariable, RuleProgram } from '../compiler/compile.ts';
import type { ParameterSnapshot } from '../compiler/parameters.ts';
import type { Type } from '../expr/index.ts';
import { formatIsoDate, formatLongDate, formatMoney, formatRate } from '../values/index.ts';

/** A parameter as it was read by one evaluation. */
export interface TracedParameter {
  readonly name: string;
  readonly label: string;
  readonly value: number | boolean | string;
  readonly display: string;
  readonly effectiveFrom: string;
  readonly source: string;
  readonly sourceTitle: string | undefined;
  readonly legal: string | undefined;
}

/** One variable of the evaluation: its formula, its value(s), the parameters it read. */
export interface TracedVariable {
  readonly name: string;
  readonly label: string | undefined;
  readonly legal: string | undefined;
  readonly formula: string;
  readonly for: string | undefined;
  readonly value: number | boolean | string | undefined;
  readonly values: readonly (number | boolean | string)[] | undefined;
  readonly parameters: readonly TracedParameter[];
}

export interface Trace {
  readonly variables: readonly TracedVariable[];
}

/** A value in JSON form: pounds for money, a fraction for rates, ISO text for dates. */
export function jsonValue(type: Type, value: unknown): number | boolean | string {
  switch (type.t) {
    case 'money':
      return (value as number) / 100;
    case 'rate':
      return (value as number) / 1_000_000;
    case 'date':
      return formatIsoDate(value as number);
    default:
      return value as number | boolean | string;
  }
}

/** A value for people: "£628.10", "55%", "6 April 2017". */
export function displayValue(type: Type, value: unknown): string {
  switch (type.t) {
    case 'money':
      return formatMoney(value as number);
    case 'rate':
      return formatRate(value as number);
    case 'date':
      return formatLongDate(value as number);
    case 'bool':
      return value ? 'yes' : 'no';
    default:
      return String(value);
  }
}

/** The reference key a source starts with: "S1 table 2" -> "S1". */
export function referenceKey(source: string): string {
  const end = source.search(/[\s,:;(]/);
  return end < 0 ? source : source.slice(0, end);
}

const NO_PARAMETERS: readonly TracedParameter[] = Object.freeze([]);

/** How a variable's internal value becomes JSON: as is, pence to pounds, ppm to a fraction, or a date. */
const enum Conversion {
  Same,
  Money,
  Rate,
  Date,
}

function conversionOf(type: Type): Conversion {
  return type.t === 'money' ? Conversion.Money : type.t === 'rate' ? Conversion.Rate : type.t === 'date' ? Conversion.Date : Conversion.Same;
}

function convert(conversion: Conversion, value: unknown): number | boolean | string {
  switch (conversion) {
    case Conversion.Money:
      return (value as number) / 100;
    case Conversion.Rate:
      return (value as number) / 1_000_000;
    case Conversion.Date:
      return formatIsoDate(value as number);
    default:
      return value as number | boolean | string;
  }
}

/**
 * Builds traces for one program. A parameter's trace entry depends only on the snapshot in
 * force, so it is built once per snapshot and shared. Every entry has one fixed shape (absent
 * parts are undefined and left out of JSON), which keeps building a trace cheap.
 */
export class TraceBuilder {
  private readonly bySnapshot = new WeakMap<ParameterSnapshot, TracedParameter[]>();
  private readonly conversions: readonly Conversion[];

  constructor(private readonly program: RuleProgram) {
    this.conversions = program.variables.map((v) => conversionOf(v.type));
  }

  /**
   * `log` is the recorder's: a variable marker (-1 - index) followed by the parameters it read.
   * `values` must be this evaluation's own, with its reasons already written: list values are
   * converted in place.
   */
  build(values: readonly unknown[], log: readonly number[], snapshot: ParameterSnapshot): Trace {
    const parameters = this.parametersOf(snapshot);
    const reads: (TracedParameter[] | undefined)[] = new Array<TracedParameter[] | undefined>(values.length);
    let current = -1;
    for (const entry of log) {
      if (entry < 0) {
        current = -1 - entry;
        continue;
      }
      const list = reads[current] ?? (reads[current] = []);
      const parameter = parameters[entry]!;
      if (!list.includes(parameter)) list.push(parameter);
    }
    const variables: TracedVariable[] = [];
    const all = this.program.variables;
    for (let i = 0; i < all.length; i++) {
      const v: CompiledVariable = all[i]!;
      const conversion = this.conversions[i]!;
      let value: number | boolean | string | undefined;
      let list: (number | boolean | string)[] | undefined;
      if (v.list) {
        // The evaluation's own array, read by nothing after this: converted in place.
        list = values[i] as (number | boolean | string)[];
        if (conversion !== Conversion.Same) for (let k = 0; k < list.length; k++) list[k] = convert(conversion, list[k]);
      } else {
        value = convert(conversion, values[i]);
      }
      variables.push({ name: v.name, label: v.label, legal: v.legal, formula: v.formula, for: v.list, value, values: list, parameters: reads[i] ?? NO_PARAMETERS });
    }
    return { variables };
  }

  private parametersOf(snapshot: ParameterSnapshot): TracedParameter[] {
    let traced = this.bySnapshot.get(snapshot);
    if (!traced) {
      traced = this.program.parameters.parameters.map((p, index): TracedParameter => {
        const entry = snapshot.entries[index];
        const value = entry?.value;
        return {
          name: p.name,
          label: p.label,
          value: value === undefined ? 'unconfirmed' : jsonValue(p.type, value),
          display: value === undefined ? 'not confirmed' : displayValue(p.type, value),
          effectiveFrom: entry ? formatIsoDate(entry.from) : 'none',
          source: entry?.source ?? 'none',
          sourceTitle: entry ? this.program.references[referenceKey(entry.source)]?.title : undefined,
          legal: p.legal,
        };
      });
      this.bySnapshot.set(snapshot, traced);
    }
    return traced;
  }
}
