import type { RuleSetBundle } from '../rules/index.ts';

type Values = { from: string; provisional?: boolean; [key: string]: unknown }[];

/**
 * The provisional values a release revises: for each parameter of the version it replaced with a
 * provisional value, the release's value from the same date when it differs (confirmed, or another
 * figure). Keyed by parameter name, then by the date the value is from.
 */
export function revisedProvisional(
  before: RuleSetBundle,
  after: RuleSetBundle,
): ReadonlyMap<string, ReadonlyMap<string, Values[number]>> {
  const revised = new Map<string, Map<string, Values[number]>>();
  for (const [name, spec] of Object.entries(before.parameters)) {
    const now = after.parameters[name];
    if (!now) continue;
    for (const value of spec.values as Values) {
      if (!value.provisional) continue;
      const replacement = (now.values as Values).find((v) => v.from === value.from);
      if (!replacement || JSON.stringify(replacement) === JSON.stringify(value)) continue;
      revised.set(name, (revised.get(name) ?? new Map<string, Values[number]>()).set(value.from, replacement));
    }
  }
  return revised;
}

/**
 * A decision's own rule-set version with only the revised provisional values replaced: re-evaluated
 * with it, a decision changes by what the confirmation changes, and by nothing else any release
 * since has changed.
 */
export function withRevisedValues(
  bundle: RuleSetBundle,
  revised: ReadonlyMap<string, ReadonlyMap<string, Values[number]>>,
): RuleSetBundle {
  const copy = structuredClone(bundle) as unknown as { parameters: Record<string, { values: Values }> };
  for (const [name, byDate] of revised) {
    const parameter = copy.parameters[name];
    if (!parameter) continue;
    parameter.values = parameter.values.map((v) => (v.provisional && byDate.get(v.from)) || v);
  }
  return copy as unknown as RuleSetBundle;
}
