import { isDeepStrictEqual } from 'node:util';
import type { ParameterSpec, RuleSetBundle } from '../format/index.ts';

/** One change between two rule sets, in words a policy reviewer can check. */
export interface Change {
  readonly kind: 'parameter' | 'variable' | 'input' | 'outcome' | 'reason' | 'metadata';
  readonly name: string;
  readonly change: 'added' | 'removed' | 'changed';
  /** What changed, one line each: "from 2026-04-06: 400.14 -> 424.90 (S3)". */
  readonly details: readonly string[];
}

export interface RuleSetDiff {
  readonly from: { readonly id: string; readonly hash: string };
  readonly to: { readonly id: string; readonly hash: string };
  readonly changes: readonly Change[];
}

const show = (value: unknown): string =>
  value === undefined ? 'nothing' : typeof value === 'string' ? value : JSON.stringify(value);

function keyed<T>(
  a: Readonly<Record<string, T>>,
  b: Readonly<Record<string, T>>,
): { added: string[]; removed: string[]; both: string[] } {
  const before = new Set(Object.keys(a));
  const after = new Set(Object.keys(b));
  return {
    added: [...after].filter((k) => !before.has(k)).sort(),
    removed: [...before].filter((k) => !after.has(k)).sort(),
    both: [...before].filter((k) => after.has(k)).sort(),
  };
}

function valueLine(v: ParameterSpec['values'][number]): string {
  return `${v.unconfirmed ? 'unconfirmed' : show(v.value)} (${v.source})`;
}

/** Parameter values compared by their effective date, so an uprating reads as one dated change. */
function parameterDetails(a: ParameterSpec, b: ParameterSpec): string[] {
  const details: string[] = [];
  for (const field of ['type', 'label', 'legal'] as const) {
    if (a[field] !== b[field]) details.push(`${field}: ${show(a[field])} -> ${show(b[field])}`);
  }
  const before = new Map(a.values.map((v) => [v.from, v]));
  const after = new Map(b.values.map((v) => [v.from, v]));
  const dates = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const date of dates) {
    const x = before.get(date);
    const y = after.get(date);
    if (!x) details.push(`from ${date}: added ${valueLine(y!)}`);
    else if (!y) details.push(`from ${date}: removed ${valueLine(x)}`);
    else if (!isDeepStrictEqual(x, y)) details.push(`from ${date}: ${valueLine(x)} -> ${valueLine(y)}`);
  }
  return details;
}

/** What differs between two rule sets: parameters with effective dates, formulas, inputs, outputs. */
export function diffBundles(a: RuleSetBundle, b: RuleSetBundle, hashes: { from: string; to: string }): RuleSetDiff {
  const changes: Change[] = [];
  const ra = a.ruleset;
  const rb = b.ruleset;
  for (const field of ['id', 'title', 'benefit', 'description'] as const) {
    if (ra[field] !== rb[field])
      changes.push({
        kind: 'metadata',
        name: field,
        change: 'changed',
        details: [`${show(ra[field])} -> ${show(rb[field])}`],
      });
  }
  const refs = keyed(ra.references, rb.references);
  for (const name of refs.added)
    changes.push({
      kind: 'metadata',
      name: `references.${name}`,
      change: 'added',
      details: [rb.references[name]!.title],
    });
  for (const name of refs.removed)
    changes.push({
      kind: 'metadata',
      name: `references.${name}`,
      change: 'removed',
      details: [ra.references[name]!.title],
    });
  for (const name of refs.both) {
    if (!isDeepStrictEqual(ra.references[name], rb.references[name])) {
      changes.push({
        kind: 'metadata',
        name: `references.${name}`,
        change: 'changed',
        details: [`${show(ra.references[name])} -> ${show(rb.references[name])}`],
      });
    }
  }

  const params = keyed(a.parameters, b.parameters);
  for (const name of params.added)
    changes.push({
      kind: 'parameter',
      name,
      change: 'added',
      details: b.parameters[name]!.values.map((v) => `from ${v.from}: ${valueLine(v)}`),
    });
  for (const name of params.removed) changes.push({ kind: 'parameter', name, change: 'removed', details: [] });
  for (const name of params.both) {
    const details = parameterDetails(a.parameters[name]!, b.parameters[name]!);
    if (details.length > 0) changes.push({ kind: 'parameter', name, change: 'changed', details });
  }

  const vars = keyed(ra.variables, rb.variables);
  for (const name of vars.added)
    changes.push({
      kind: 'variable',
      name,
      change: 'added',
      details: [`formula: ${rb.variables[name]!.formula.trim()}`],
    });
  for (const name of vars.removed)
    changes.push({
      kind: 'variable',
      name,
      change: 'removed',
      details: [`formula was: ${ra.variables[name]!.formula.trim()}`],
    });
  for (const name of vars.both) {
    const x = ra.variables[name]!;
    const y = rb.variables[name]!;
    const details: string[] = [];
    if (x.formula.trim() !== y.formula.trim())
      details.push(`formula: ${x.formula.trim()}`, `     now: ${y.formula.trim()}`);
    for (const field of ['type', 'for', 'label', 'legal'] as const) {
      if (x[field] !== y[field]) details.push(`${field}: ${show(x[field])} -> ${show(y[field])}`);
    }
    if (details.length > 0) changes.push({ kind: 'variable', name, change: 'changed', details });
  }

  // Inputs: a rule set's own, or the household model's fields (what an assessment may hold), and
  // which of them it reads.
  const inputsA = ra.inputs ?? a.household?.fields ?? {};
  const inputsB = rb.inputs ?? b.household?.fields ?? {};
  const inputs = keyed(inputsA, inputsB);
  for (const name of inputs.added)
    changes.push({ kind: 'input', name, change: 'added', details: [show(inputsB[name])] });
  for (const name of inputs.removed)
    changes.push({ kind: 'input', name, change: 'removed', details: [show(inputsA[name])] });
  for (const name of inputs.both) {
    if (!isDeepStrictEqual(inputsA[name], inputsB[name]))
      changes.push({
        kind: 'input',
        name,
        change: 'changed',
        details: [`${show(inputsA[name])} -> ${show(inputsB[name])}`],
      });
  }
  const readsA = new Set(ra.reads ?? []);
  const readsB = new Set(rb.reads ?? []);
  const readAdded = [...readsB].filter((r) => !readsA.has(r));
  const readRemoved = [...readsA].filter((r) => !readsB.has(r));
  if (readAdded.length + readRemoved.length > 0)
    changes.push({
      kind: 'input',
      name: 'reads',
      change: 'changed',
      details: [...readAdded.map((r) => `now reads ${r}`), ...readRemoved.map((r) => `no longer reads ${r}`)],
    });
  if (!isDeepStrictEqual(ra.outcome, rb.outcome))
    changes.push({
      kind: 'outcome',
      name: 'outcome',
      change: 'changed',
      details: [`${show(ra.outcome)} -> ${show(rb.outcome)}`],
    });
  const reasonCount = Math.max(ra.reasons.length, rb.reasons.length);
  for (let i = 0; i < reasonCount; i++) {
    const x = ra.reasons[i];
    const y = rb.reasons[i];
    if (isDeepStrictEqual(x, y)) continue;
    const change = !x ? 'added' : !y ? 'removed' : 'changed';
    changes.push({
      kind: 'reason',
      name: `reasons[${i}]`,
      change,
      details: [`${x ? x.text : ''}${x && y ? ' -> ' : ''}${y ? y.text : ''}`],
    });
  }
  return { from: { id: ra.id, hash: hashes.from }, to: { id: rb.id, hash: hashes.to }, changes };
}

/** The diff as text for people, one block per change. */
export function formatDiff(diff: RuleSetDiff): string {
  const lines = [`--- ${diff.from.id} ${diff.from.hash}`, `+++ ${diff.to.id} ${diff.to.hash}`];
  if (diff.changes.length === 0) lines.push('no changes');
  for (const change of diff.changes) {
    lines.push(
      `${change.change === 'added' ? '+' : change.change === 'removed' ? '-' : '~'} ${change.kind} ${change.name} (${change.change})`,
    );
    for (const detail of change.details) lines.push(`    ${detail}`);
  }
  return lines.join('\n');
}
