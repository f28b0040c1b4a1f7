import type { RuleProgram } from './compiler/index.ts';
import { typeName, type Type } from './expr/index.ts';
import { formatIsoDate, formatMoney, formatRate } from './values/index.ts';

/**
 * What a rule set knows, as people and integrators ask for it (the rules API, after OpenFisca's
 * /parameters and /variables): each parameter's value in force on a date with its source and
 * legal reference, and each variable with its meaning and formula. Values are exact: money in
 * pence, rates in parts per million, dates as ISO dates, each also as text.
 */

export interface Reference {
  readonly key: string;
  readonly title: string;
  readonly url?: string;
}

export interface ParameterInForce {
  readonly name: string;
  readonly label: string;
  readonly type: string;
  /** The exact value: pence, parts per million, an ISO date, a count or a boolean; null when unconfirmed. */
  readonly value: number | string | boolean | null;
  readonly unit: string;
  /** The value as people read it (£628.10, 55%, 6 April 2026), or "unconfirmed". */
  readonly text: string;
  /**
   * confirmed (an official source); provisional (secondary sources reproducing the official paper:
   * used, and each decision that uses it says so); or unconfirmed (none found: a decision that
   * needs it is refused, never guessed).
   */
  readonly status: 'confirmed' | 'provisional' | 'unconfirmed';
  /** The date this value took effect; null when the parameter has no value yet on that date. */
  readonly from: string | null;
  readonly source: string | null;
  readonly note?: string;
  readonly legal: string | null;
  /** The references the source and legal text cite, with their titles and addresses. */
  readonly references: readonly Reference[];
}

export interface VariableDescription {
  readonly name: string;
  readonly label: string | null;
  readonly type: string;
  readonly unit: string;
  /** The list of entities it is computed for (children, adults), when it is one per entity. */
  readonly per: string | null;
  readonly formula: string;
  readonly legal: string | null;
  readonly references: readonly Reference[];
  /** The variables and parameters its formula reads. */
  readonly reads: readonly string[];
}

const UNITS: Record<string, string> = {
  money: 'pence',
  rate: 'parts per million',
  date: 'ISO date',
  int: 'count',
  bool: 'boolean',
  string: 'text',
};

/** The references named in a text such as 'S1 table "Universal Credit"; S2'. */
function citing(program: RuleProgram, ...texts: (string | undefined)[]): Reference[] {
  const keys = new Set<string>();
  for (const text of texts)
    for (const word of (text ?? '').match(/[A-Za-z][\w-]*/g) ?? []) if (program.references[word]) keys.add(word);
  return [...keys].map((key) => ({ key, ...program.references[key]! }));
}

function valueOf(type: Type, value: number | boolean): { value: number | string | boolean; text: string } {
  if (type.t === 'money' && typeof value === 'number') return { value, text: formatMoney(value) };
  if (type.t === 'rate' && typeof value === 'number') return { value, text: formatRate(value) };
  if (type.t === 'date' && typeof value === 'number')
    return { value: formatIsoDate(value), text: formatIsoDate(value) };
  return { value, text: String(value) };
}

/** Every parameter of the rule set with the value in force on `day` (a day number). */
export function parametersOn(program: RuleProgram, day: number): ParameterInForce[] {
  return program.parameters.parameters.map((p) => {
    const entry = [...p.entries].reverse().find((e) => e.from <= day);
    const common = {
      name: p.name,
      label: p.label,
      type: typeName(p.type),
      unit: UNITS[p.type.t] ?? p.type.t,
      legal: p.legal ?? null,
      references: citing(program, p.legal, entry?.source),
    };
    if (!entry)
      return { ...common, value: null, text: 'no value yet', status: 'unconfirmed', from: null, source: null };
    const shown =
      entry.unconfirmed || entry.value === undefined
        ? { value: null, text: 'unconfirmed' }
        : valueOf(p.type, entry.value);
    return {
      ...common,
      ...shown,
      status: entry.unconfirmed ? 'unconfirmed' : entry.provisional ? 'provisional' : 'confirmed',
      from: formatIsoDate(entry.from),
      source: entry.source,
      ...(entry.note ? { note: entry.note } : {}),
    };
  });
}

/** Every variable of the rule set: what it means, how it is worked out, and where the law says so. */
export function variablesOf(program: RuleProgram): VariableDescription[] {
  return program.variables.map((v) => ({
    name: v.name,
    label: v.label ?? null,
    type: typeName(v.type),
    unit: UNITS[v.type.t] ?? v.type.t,
    per: v.list ?? null,
    formula: v.formula,
    legal: v.legal ?? null,
    references: citing(program, v.legal),
    reads: v.reads,
  }));
}
