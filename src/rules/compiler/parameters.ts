import type { Problem } from '../../errors/index.ts';
import type { Locator, ParametersFile } from '../format/index.ts';
import { T, type Type } from '../expr/index.ts';
import { parseIsoDate, parseRate, poundsToPence, PPM } from '../values/index.ts';
import { referenceKey } from '../format/index.ts';

/** One dated value of a parameter, as the trace reports it. */
export interface ParameterEntry {
  readonly from: number;
  /** The exact internal value (pence, parts per million, day number...); undefined when unconfirmed. */
  readonly value: number | boolean | undefined;
  readonly unconfirmed: boolean;
  /** Reproduced by secondary sources, not yet read from an official one: used, and decisions say so. */
  readonly provisional: boolean;
  readonly source: string;
  readonly note?: string;
}

export interface CompiledParameter {
  readonly name: string;
  readonly index: number;
  readonly type: Type;
  readonly label: string;
  readonly legal?: string;
  readonly entries: readonly ParameterEntry[];
}

/**
 * Every parameter's value in force over one interval of dates. Built once per interval at
 * compile time, so an assessment only looks up which interval its date falls in.
 */
export interface ParameterSnapshot {
  readonly from: number;
  /** Index by parameter; undefined where the value is unconfirmed or does not exist yet. */
  readonly values: readonly (number | boolean | undefined)[];
  readonly entries: readonly (ParameterEntry | undefined)[];
}

export interface ParameterTable {
  readonly parameters: readonly CompiledParameter[];
  readonly byName: ReadonlyMap<string, CompiledParameter>;
  /** The snapshot in force on a day. */
  snapshotOn(day: number): ParameterSnapshot;
  /** The first day on which any parameter has a value. */
  readonly firstDay: number;
}

const PARSERS: Record<string, (value: unknown) => number | boolean | undefined> = {
  money: (v) => (typeof v === 'number' || typeof v === 'string' ? poundsToPence(v) : undefined),
  rate: (v) => (typeof v === 'number' || typeof v === 'string' ? parseRate(v) : undefined),
  int: (v) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined),
  bool: (v) => (typeof v === 'boolean' ? v : undefined),
  date: (v) => parseIsoDate(v),
};

const HINTS: Record<string, string> = {
  money: 'an amount in pounds with at most 2 decimal places, such as 400.14',
  rate: 'a percentage such as "55%", or a fraction such as 0.55',
  int: 'a whole number',
  bool: 'true or false',
  date: 'a date such as 2017-04-06',
};

/** Validates and compiles parameters.yaml; every problem is returned, located. */
export function compileParameters(
  file: ParametersFile,
  referenceKeys: ReadonlySet<string>,
  locate: Locator,
  problems: Problem[],
): ParameterTable {
  const parameters: CompiledParameter[] = [];
  for (const [name, spec] of Object.entries(file)) {
    const entries: ParameterEntry[] = [];
    let previous = -Infinity;
    spec.values.forEach((raw, i) => {
      const at = (field: string, message: string) => problems.push(locate.at([name, 'values', i, field], message));
      const from = parseIsoDate(raw.from);
      if (from === undefined) return at('from', `${raw.from} is not a real date`);
      if (from <= previous) at('from', 'list the values in order of date, each from a later date than the one before');
      previous = from;
      const refKey = referenceKey(raw.source);
      if (!referenceKeys.has(refKey)) {
        at(
          'source',
          `the source must start with a reference key listed under references in ruleset.yaml (such as S1), not "${refKey}"`,
        );
      }
      if (raw.unconfirmed && raw.provisional)
        at(
          'provisional',
          'a value is provisional (a figure from secondary sources) or unconfirmed (none found), not both',
        );
      if (raw.unconfirmed) {
        if (raw.value !== undefined)
          at(
            'value',
            'an unconfirmed value must not give a figure: remove value, or remove unconfirmed once the figure is confirmed',
          );
        entries.push({
          from,
          value: undefined,
          unconfirmed: true,
          provisional: false,
          source: raw.source,
          ...(raw.note ? { note: raw.note } : {}),
        });
        return;
      }
      if (raw.value === undefined) return at('from', 'give a value, or mark the value unconfirmed: true');
      const value = PARSERS[spec.type]!(raw.value);
      if (value === undefined) return at('value', `a ${spec.type} parameter needs ${HINTS[spec.type]}`);
      if (spec.type === 'rate' && ((value as number) < 0 || (value as number) > PPM)) {
        return at('value', `a rate is between 0% and 100%: write it as a percentage, such as '55%'`);
      }
      entries.push({
        from,
        value,
        unconfirmed: false,
        provisional: raw.provisional === true,
        source: raw.source,
        ...(raw.note ? { note: raw.note } : {}),
      });
    });
    parameters.push({
      name,
      index: parameters.length,
      type: T[spec.type],
      label: spec.label,
      ...(spec.legal ? { legal: spec.legal } : {}),
      entries,
    });
  }
  return buildTable(parameters);
}

function buildTable(parameters: CompiledParameter[]): ParameterTable {
  const days = [...new Set(parameters.flatMap((p) => p.entries.map((e) => e.from)))].sort((a, b) => a - b);
  const before: ParameterSnapshot = {
    from: -Infinity,
    values: parameters.map(() => undefined),
    entries: parameters.map(() => undefined),
  };
  const snapshots = days.map((day): ParameterSnapshot => {
    const entries = parameters.map((p) => p.entries.findLast((e) => e.from <= day));
    return { from: day, values: entries.map((e) => e?.value), entries };
  });
  return {
    parameters,
    byName: new Map(parameters.map((p) => [p.name, p])),
    firstDay: days[0] ?? Infinity,
    snapshotOn(day: number): ParameterSnapshot {
      // Binary search: the last snapshot starting on or before the day.
      let lo = 0;
      let hi = snapshots.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (snapshots[mid]!.from <= day) {
          found = mid;
          lo = mid + 1;
        } else {
          hi = mid - 1;
        }
      }
      return found < 0 ? before : snapshots[found]!;
    },
  };
}
