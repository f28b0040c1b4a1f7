import type { CompiledVariable, ParameterSnapshot, RuleProgram } from '../compiler/index.ts';
import type { Type } from '../expr/index.ts';
import { referenceKey } from '../format/index.ts';
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
  return convert(conversionOf(type), value);
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

const NO_PARAMETERS: readonly TracedParameter[] = Object.freeze([]);

/** How a variable's internal value becomes JSON: as is, pence to pounds, ppm to a fraction, or a date. */
const enum Conversion {
  Same,
  Money,
  Rate,
  Date,
}

function conversionOf(type: Type): Conversion {
  return type.t === 'money'
    ? Conversion.Money
    : type.t === 'rate'
      ? Conversion.Rate
      : type.t === 'date'
        ? Conversion.Date
        : Conversion.Same;
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
  private readonly bySnapshot = new WeakMap<ParameterSnapshot, SnapshotTraces>();
  private readonly conversions: readonly Conversion[];

  constructor(private readonly program: RuleProgram) {
    this.conversions = program.variables.map((v) => conversionOf(v.type));
  }

  /**
   * `masks[i]` says which of variable i's candidate parameters it read (bit j: candidate j).
   * `values` must be this evaluation's own, with its reasons already written: list values are
   * converted in place.
   */
  build(values: readonly unknown[], masks: readonly number[], snapshot: ParameterSnapshot): Trace {
    const traces = this.tracesOf(snapshot);
    const all = this.program.variables;
    const variables = new Array<TracedVariable>(all.length);
    for (let i = 0; i < all.length; i++) {
      const v: CompiledVariable = all[i]!;
      const conversion = this.conversions[i]!;
      let value: number | boolean | string | undefined;
      let list: (number | boolean | string)[] | undefined;
      if (v.list) {
        // The evaluation's own array, read by nothing after this: converted in place.
        list = values[i] as (number | boolean | string)[];
        if (conversion !== Conversion.Same)
          for (let k = 0; k < list.length; k++) list[k] = convert(conversion, list[k]);
      } else {
        value = convert(conversion, values[i]);
      }
      const mask = masks[i]!;
      const parameters = mask === 0 ? NO_PARAMETERS : traces.readsOf(i, mask);
      variables[i] = {
        name: v.name,
        label: v.label,
        legal: v.legal,
        formula: v.formula,
        for: v.list,
        value,
        values: list,
        parameters,
      };
    }
    return { variables };
  }

  private tracesOf(snapshot: ParameterSnapshot): SnapshotTraces {
    let traces = this.bySnapshot.get(snapshot);
    if (!traces) {
      const parameters = this.program.parameters.parameters.map((p, index): TracedParameter => {
        const entry = snapshot.entries[index];
        const value = entry?.value;
        return Object.freeze({
          name: p.name,
          label: p.label,
          value: value === undefined ? 'unconfirmed' : jsonValue(p.type, value),
          display: value === undefined ? 'not confirmed' : displayValue(p.type, value),
          effectiveFrom: entry ? formatIsoDate(entry.from) : 'none',
          source: entry?.source ?? 'none',
          sourceTitle: entry ? this.program.references[referenceKey(entry.source)]?.title : undefined,
          legal: p.legal,
        });
      });
      traces = new SnapshotTraces(parameters, this.program.traceCandidates);
      this.bySnapshot.set(snapshot, traces);
    }
    return traces;
  }
}

/**
 * The parameter lists of one snapshot, one frozen list per (variable, mask) seen, shared by every
 * trace that read the same parameters: after warm-up, tracing allocates nothing for them.
 */
class SnapshotTraces {
  private readonly lists: Map<number, readonly TracedParameter[]>[];

  constructor(
    private readonly parameters: readonly TracedParameter[],
    private readonly candidates: readonly (readonly number[])[],
  ) {
    this.lists = candidates.map(() => new Map<number, readonly TracedParameter[]>());
  }

  readsOf(variable: number, mask: number): readonly TracedParameter[] {
    const cache = this.lists[variable]!;
    let list = cache.get(mask);
    if (!list) {
      const candidates = this.candidates[variable]!;
      list = Object.freeze(
        candidates.filter((_, bit) => (mask & (1 << bit)) !== 0).map((index) => this.parameters[index]!),
      );
      cache.set(mask, list);
    }
    return list;
  }
}
