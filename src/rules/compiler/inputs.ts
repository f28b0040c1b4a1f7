import type { Problem } from '../../errors/index.ts';
import type { FieldSpec, InputsSpec, ListInputSpec, Locator } from '../format/index.ts';
import { T, type Type } from '../expr/index.ts';
import { formatMoney, parseIsoDate, poundsToPence } from '../values/index.ts';
import { distance } from 'fastest-levenshtein';

/** A scalar input field after validation of the rule set. */
export interface InputField {
  readonly name: string;
  readonly type: Type;
  readonly description?: string;
  readonly min?: number;
  readonly max?: number;
  readonly notAfterAssessmentDate: boolean;
  /** Dates: the earliest accepted, as a day number, and the same as written. */
  readonly notBefore?: { readonly day: number; readonly text: string };
  /** Dates of birth: the age on the assessment date must be below this. */
  readonly ageUnder?: number;
  /** Refused when absent. False for a household field the rule set does not read: checked if given. */
  readonly required: boolean;
}

export interface InputList {
  readonly name: string;
  readonly item: string;
  readonly min: number;
  readonly max: number;
  readonly orderBy?: string;
  readonly fields: ReadonlyMap<string, InputField>;
  /** Refused when absent; see InputField.required. */
  readonly required: boolean;
}

export interface InputSchema {
  readonly fields: ReadonlyMap<string, InputField>;
  readonly lists: ReadonlyMap<string, InputList>;
}

// Money inputs are capped so that every sum of them stays a safe integer of pence.
const MONEY_CEILING = 100_000_000_00;

/** Validates the `inputs` section of ruleset.yaml, or the fields of the household model. */
export function compileInputSchema(inputs: InputsSpec, locate: Locator, problems: Problem[]): InputSchema {
  const fields = new Map<string, InputField>();
  const lists = new Map<string, InputList>();
  for (const [name, spec] of Object.entries(inputs)) {
    if (typeof spec === 'object' && 'list' in spec) {
      const list: ListInputSpec = spec;
      const listFields = new Map<string, InputField>();
      for (const [fieldName, fieldSpec] of Object.entries(list.list.fields)) {
        listFields.set(
          fieldName,
          field(fieldName, fieldSpec, ['inputs', name, 'list', 'fields', fieldName], locate, problems),
        );
      }
      const orderBy = list.list.orderBy;
      if (orderBy !== undefined) {
        const key = listFields.get(orderBy);
        if (!key || !['date', 'int', 'money'].includes(key.type.t)) {
          problems.push(
            locate.at(
              ['inputs', name, 'list', 'orderBy'],
              `orderBy must name a date, money or whole-number field of ${name}`,
            ),
          );
        }
      }
      lists.set(name, {
        name,
        item: list.list.item,
        min: list.list.min ?? 0,
        max: list.list.max,
        ...(orderBy ? { orderBy } : {}),
        fields: listFields,
        required: true,
      });
    } else {
      fields.set(name, field(name, spec, ['inputs', name], locate, problems));
    }
  }
  return { fields, lists };
}

/** A household model narrowed to what one rule set reads. */
export interface HouseholdInputs {
  /** Every household field, those read required: what the normaliser checks. */
  readonly accepted: InputSchema;
  /** Only the fields read: what formulas can see. */
  readonly visible: InputSchema;
  /** The fields read, as the explanation lists them: `capital`, `adults`, `adults[].dateOfBirth`. */
  readonly reads: readonly string[];
}

/**
 * Narrows the household model to the fields a rule set reads. Reading a field of a list's entries
 * reads the list. Each name read must be a household field; every problem is located at `reads`.
 */
export function readHousehold(
  household: InputSchema,
  reads: readonly string[],
  locate: Locator,
  problems: Problem[],
): HouseholdInputs {
  const fieldsRead = new Set<string>();
  const listsRead = new Map<string, Set<string>>();
  const known = [
    ...household.fields.keys(),
    ...[...household.lists.values()].flatMap((l) => [l.name, ...[...l.fields.keys()].map((f) => `${l.name}.${f}`)]),
  ];
  reads.forEach((path, i) => {
    const [head, tail] = path.split('.') as [string, string | undefined];
    const list = household.lists.get(head);
    const bad = () => {
      const near = nearest(path, known);
      problems.push(
        locate.at(
          ['reads', i],
          `${path} is not a field of the household model${near ? `: did you mean ${near}?` : ''} (add a new field to household.yaml first)`,
        ),
      );
    };
    if (tail === undefined) {
      if (household.fields.has(head)) fieldsRead.add(head);
      else if (list) listsRead.set(head, listsRead.get(head) ?? new Set());
      else bad();
    } else if (list?.fields.has(tail)) {
      listsRead.set(head, (listsRead.get(head) ?? new Set()).add(tail));
    } else bad();
  });
  const accepted: InputSchema = {
    fields: new Map(
      [...household.fields].map(([name, f]) => [name, { ...f, required: fieldsRead.has(name) }] as const),
    ),
    lists: new Map(
      [...household.lists].map(([name, list]) => {
        const read = listsRead.get(name);
        const fields = new Map(
          [...list.fields].map(([f, spec]) => [f, { ...spec, required: read?.has(f) ?? false }] as const),
        );
        return [name, { ...list, fields, required: read !== undefined }] as const;
      }),
    ),
  };
  const visible: InputSchema = {
    fields: new Map([...accepted.fields].filter(([name]) => fieldsRead.has(name))),
    lists: new Map(
      [...accepted.lists]
        .filter(([name]) => listsRead.has(name))
        .map(([name, list]) => [
          name,
          { ...list, fields: new Map([...list.fields].filter(([f]) => listsRead.get(name)!.has(f))) },
        ]),
    ),
  };
  // In the order the rule set lists them: a stored bundle's maps may come back in another order
  // (PostgreSQL's jsonb sorts keys), and a replayed decision must list them the same.
  const readNames = [...new Set(reads.map((path) => path.replace('.', '[].')))];
  return { accepted, visible, reads: readNames };
}

/** The known name nearest to a misspelt one, if it is near enough to be what was meant. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // A third of the name's length, at least 2 edits: "dateOfBirt" and "dob" are not the same kind
  // of slip, and "dob" is not suggested as anything.
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function field(
  name: string,
  spec: FieldSpec,
  path: (string | number)[],
  locate: Locator,
  problems: Problem[],
): InputField {
  if (typeof spec === 'string') return { name, type: T[spec], notAfterAssessmentDate: false, required: true };
  if ('enum' in spec)
    return {
      name,
      type: { t: 'enum', values: spec.enum },
      notAfterAssessmentDate: false,
      required: true,
      ...(spec.description ? { description: spec.description } : {}),
    };
  const bound = (key: 'min' | 'max'): number | undefined => {
    const raw = spec[key];
    if (raw === undefined) return undefined;
    const value =
      spec.type === 'money'
        ? poundsToPence(raw)
        : typeof raw === 'number' && Number.isSafeInteger(raw)
          ? raw
          : undefined;
    if (value === undefined || (spec.type !== 'money' && spec.type !== 'int')) {
      problems.push(locate.at([...path, key], `${key} applies to money (in pounds) and whole numbers only`));
    }
    return value;
  };
  const min = bound('min');
  const max = bound('max');
  for (const key of ['notAfter', 'notBefore', 'ageUnder'] as const)
    if (spec[key] !== undefined && spec.type !== 'date')
      problems.push(locate.at([...path, key], `${key} applies to dates only`));
  const notBeforeDay = spec.notBefore === undefined ? undefined : toDay(spec.notBefore);
  if (spec.notBefore !== undefined && notBeforeDay === undefined)
    problems.push(locate.at([...path, 'notBefore'], 'notBefore is not a date that exists'));
  return {
    name,
    type: T[spec.type],
    required: true,
    notAfterAssessmentDate: spec.notAfter === 'assessmentDate',
    ...(notBeforeDay !== undefined ? { notBefore: { day: notBeforeDay, text: spec.notBefore! } } : {}),
    ...(spec.ageUnder !== undefined ? { ageUnder: spec.ageUnder } : {}),
    ...(spec.description ? { description: spec.description } : {}),
    ...(min !== undefined ? { min } : {}),
    ...(max !== undefined ? { max } : {}),
  };
}

/**
 * Generates the input normaliser: it checks every field of `household`, collects a plain-English
 * problem for each one that is wrong (never echoing the value, which may be personal data), and
 * converts the rest to exact internal values: pence, day numbers, lists in their declared order.
 * Generated rather than interpreted because it runs on every assessment.
 */
export function generateNormaliser(schema: InputSchema, household = false): string {
  const what = JSON.stringify(household ? 'a field of the household' : 'used in this assessment');
  const lines: string[] = [];
  const emitField = (f: InputField, source: string, target: string, pathCode: string) => {
    const v = `v_${f.name}`;
    lines.push(`let ${target}_${f.name}; { const ${v} = ${source}.${f.name};`);
    // A household field this rule set does not read may be left out; given, it is still checked.
    if (f.required)
      lines.push(`if (${v} === undefined) E(errors, ${pathCode}, ${JSON.stringify(`is required: ${hint(f)}`)});`);
    else lines.push(`if (${v} === undefined) {}`);
    switch (f.type.t) {
      case 'money':
        lines.push(
          `else { const p = toPence(${v}); if (p === undefined) E(errors, ${pathCode}, ${JSON.stringify(hint(f))});`,
        );
        lines.push(
          `else if (p < ${f.min ?? -MONEY_CEILING}) E(errors, ${pathCode}, ${JSON.stringify(`must be ${formatMoney(f.min ?? -MONEY_CEILING)} or more`)});`,
        );
        lines.push(
          `else if (p > ${f.max ?? MONEY_CEILING}) E(errors, ${pathCode}, ${JSON.stringify(`must be ${formatMoney(f.max ?? MONEY_CEILING)} or less`)});`,
        );
        lines.push(`else ${target}_${f.name} = p; }`);
        break;
      case 'int':
        lines.push(`else if (!Number.isSafeInteger(${v})) E(errors, ${pathCode}, ${JSON.stringify(hint(f))});`);
        if (f.min !== undefined)
          lines.push(`else if (${v} < ${f.min}) E(errors, ${pathCode}, "must be ${f.min} or more");`);
        if (f.max !== undefined)
          lines.push(`else if (${v} > ${f.max}) E(errors, ${pathCode}, "must be ${f.max} or less");`);
        lines.push(`else ${target}_${f.name} = ${v};`);
        break;
      case 'bool':
        lines.push(`else if (typeof ${v} !== "boolean") E(errors, ${pathCode}, ${JSON.stringify(hint(f))});`);
        lines.push(`else ${target}_${f.name} = ${v};`);
        break;
      case 'date':
        lines.push(
          `else { const d = toDay(${v}); if (d === undefined) E(errors, ${pathCode}, ${JSON.stringify(hint(f))});`,
        );
        if (f.notAfterAssessmentDate)
          lines.push(`else if (d > A) E(errors, ${pathCode}, "must not be after the assessment date");`);
        if (f.notBefore)
          lines.push(
            `else if (d < ${f.notBefore.day}) E(errors, ${pathCode}, ${JSON.stringify(`must be on or after ${f.notBefore.text}: check the year`)});`,
          );
        if (f.ageUnder !== undefined)
          lines.push(
            `else if (ageOn(d, A) >= ${f.ageUnder}) E(errors, ${pathCode}, ${JSON.stringify(`must make them under ${f.ageUnder} on the assessment date: check the year, or leave out anyone ${f.ageUnder} or over`)});`,
          );
        lines.push(`else ${target}_${f.name} = d; }`);
        break;
      case 'enum':
        lines.push(
          `else if (${f.type.values.map((value) => `${v} !== ${JSON.stringify(value)}`).join(' && ')}) E(errors, ${pathCode}, ${JSON.stringify(hint(f))});`,
        );
        lines.push(`else ${target}_${f.name} = ${v};`);
        break;
      default:
        lines.push(`else if (typeof ${v} !== "string") E(errors, ${pathCode}, "enter text");`);
        lines.push(`else ${target}_${f.name} = ${v};`);
    }
    lines.push('}');
  };
  const unknownCheck = (source: string, known: readonly string[], prefixCode: string) => {
    lines.push(`{ let n = 0; ${known.map((k) => `if (${source}.${k} !== undefined) n++;`).join(' ')}`);
    lines.push(`let m = 0; for (const k in ${source}) m++;`);
    lines.push(
      `if (m !== n) for (const k of Object.keys(${source})) if (!${JSON.stringify(known)}.includes(k) || ${source}[k] === undefined) E(errors, ${prefixCode} + fieldName(k), unknownField(k, ${JSON.stringify(known)}, ${what})); }`,
    );
  };

  for (const f of schema.fields.values()) emitField(f, 'h', 'I', JSON.stringify(f.name));
  for (const list of schema.lists.values()) {
    const raw = `l_${list.name}`;
    const fieldNames = [...list.fields.keys()];
    const noun = (n: number) => `${n} ${n === 1 ? list.item : plural(list.item)}`;
    lines.push(`let I_${list.name}; { const ${raw} = h.${list.name};`);
    const notList = `enter a list of ${plural(list.item)}${list.min > 0 ? `, with at least ${noun(list.min)}` : ', which may be empty: []'}`;
    if (!list.required) lines.push(`if (${raw} === undefined) {}`);
    lines.push(
      `${list.required ? '' : 'else '}if (!Array.isArray(${raw})) E(errors, ${JSON.stringify(list.name)}, ${JSON.stringify(notList)});`,
    );
    lines.push(
      `else if (${raw}.length < ${list.min}) E(errors, ${JSON.stringify(list.name)}, ${JSON.stringify(`enter at least ${noun(list.min)}`)});`,
    );
    lines.push(
      `else if (${raw}.length > ${list.max}) E(errors, ${JSON.stringify(list.name)}, ${JSON.stringify(`enter no more than ${noun(list.max)}`)});`,
    );
    lines.push(`else { const out = new Array(${raw}.length); I_${list.name} = out;`);
    const path = `${JSON.stringify(list.name)} + "[" + i + "]"`;
    lines.push(`for (let i = 0; i < ${raw}.length; i++) { const x = ${raw}[i];`);
    lines.push(
      `if (x === null || typeof x !== "object" || Array.isArray(x)) { E(errors, ${path}, ${JSON.stringify(`enter the details of the ${list.item} as an object with ${fieldNames.join(', ')}`)}); continue; }`,
    );
    for (const f of list.fields.values()) emitField(f, 'x', 'o', `${path} + ${JSON.stringify(`.${f.name}`)}`);
    unknownCheck('x', fieldNames, `${path} + "."`);
    lines.push(`out[i] = { $i: i, ${fieldNames.map((n) => `${n}: o_${n}`).join(', ')} };`);
    lines.push('}');
    if (list.orderBy) {
      const key = list.orderBy;
      // Stable: entries with the same key keep the order they were given in.
      lines.push(
        `if (errors.length === 0) { let sorted = true; for (let i = 1; i < out.length; i++) if (out[i].${key} < out[i - 1].${key}) { sorted = false; break; }`,
      );
      lines.push(`if (!sorted) out.sort((a, b) => a.${key} - b.${key} || a.$i - b.$i); }`);
    }
    lines.push('} }');
  }
  unknownCheck('h', [...schema.fields.keys(), ...schema.lists.keys()], '""');
  const members = [
    ...[...schema.fields.keys()].map((n) => `${n}: I_${n}`),
    ...[...schema.lists.keys()].map((n) => `${n}: I_${n}`),
  ];
  lines.push(`return { assessmentDate: A, ${members.join(', ')} };`);
  return lines.join('\n');
}

function hint(f: InputField): string {
  switch (f.type.t) {
    case 'money':
      return 'enter an amount in pounds as a number, such as 1500.00, with no more than 2 decimal places';
    case 'int':
      return 'enter a whole number, such as 0';
    case 'bool':
      return 'enter true or false';
    case 'date':
      return 'enter a date such as 1990-01-31';
    case 'enum':
      return `enter one of: ${f.type.values.join(', ')}`;
    default:
      return 'enter text';
  }
}

function plural(word: string): string {
  return word.endsWith('child') ? `${word}ren` : `${word}s`;
}

/** Pounds given as a JSON number, to pence; undefined unless it has at most 2 decimals. */
export function toPence(value: unknown): number | undefined {
  if (typeof value !== 'number') return undefined;
  const pence = Math.round(value * 100);
  // Exact: a number with at most 2 decimals is the double nearest to pence / 100, and division
  // is correctly rounded, so the two are equal exactly when there is no third decimal.
  return Number.isSafeInteger(pence) && pence / 100 === value ? pence : undefined;
}

/** A date given as `YYYY-MM-DD`, to its internal form. */
export const toDay = parseIsoDate;
