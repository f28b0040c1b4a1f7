import { z } from 'zod';

/**
 * The shape of the two files of a rule set, `ruleset.yaml` and `parameters.yaml`. Shape only:
 * names, types, formulas and dependencies are checked by the compiler, which reports every
 * problem with its file, line and column. See docs/rule-format.md.
 */

const name = z
  .string()
  .regex(/^[a-z][A-Za-z0-9]*$/, 'names are camelCase letters and digits, starting with a small letter');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'write a date as YYYY-MM-DD, such as 2025-04-07');
const scalarType = z.enum(['money', 'int', 'rate', 'bool', 'date', 'string']);

const fieldDetails = z.strictObject({
  type: scalarType,
  description: z.string().optional(),
  min: z.union([z.number(), z.string()]).optional(),
  max: z.union([z.number(), z.string()]).optional(),
  notAfter: z.literal('assessmentDate').optional(),
  /** The earliest date that is plausible: earlier ones are refused, naming the field. */
  notBefore: isoDate.optional(),
  /** A date of birth: the person is younger than this many years on the assessment date. */
  ageUnder: z.number().int().min(1).max(150).optional(),
});
const enumField = z.strictObject({
  enum: z.array(z.string().min(1)).min(1),
  description: z.string().optional(),
});
export const fieldSchema = z.union([scalarType, fieldDetails, enumField]);

const listInput = z.strictObject({
  description: z.string().optional(),
  list: z.strictObject({
    /** Singular word for one entry, used in messages: "enter at least 1 adult". */
    item: z.string().min(1),
    min: z.number().int().min(0).optional(),
    max: z.number().int().min(1),
    orderBy: name.optional(),
    fields: z.record(name, fieldSchema),
  }),
});

const inputsSchema = z.record(name, z.union([listInput, fieldSchema]));

const readPath = z
  .string()
  .regex(
    /^[a-z][A-Za-z0-9]*(\.[a-z][A-Za-z0-9]*)?$/,
    'name a household field, such as capital, adults or adults.dateOfBirth',
  );

/**
 * The household model shared by every rule set (rulesets/household.yaml): every field any benefit
 * reads, in the same form as a rule set's own inputs. A rule set names the ones it reads.
 */
export const householdFileSchema = z.strictObject({
  title: z.string().min(1),
  description: z.string().optional(),
  fields: inputsSchema,
});

const reference = z.strictObject({
  title: z.string().min(1),
  url: z.string().url().optional(),
});

const variable = z.strictObject({
  for: name.optional(),
  type: scalarType,
  label: z.string().optional(),
  description: z.string().optional(),
  legal: z.string().optional(),
  formula: z.string().min(1),
});

const reason = z.strictObject({
  for: name.optional(),
  when: z.string().min(1).optional(),
  text: z.string().min(1),
});

export const ruleSetFileSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'an id is lower-case words joined by hyphens, such as uk-universal-credit'),
  title: z.string().min(1),
  benefit: z
    .string()
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'a benefit is lower-case words joined by hyphens, such as universal-credit'),
  description: z.string().optional(),
  references: z.record(
    z.string().regex(/^[A-Z][A-Za-z0-9-]*$/, 'a reference key starts with a capital, such as S1'),
    reference,
  ),
  /** The rule set's own inputs: the form before the shared household model (rulesets/household.yaml). */
  inputs: inputsSchema.optional(),
  /**
   * The fields of the shared household model this rule set reads: `capital`, `adults` (the list
   * itself) or `adults.dateOfBirth` (a field of each entry). Every other household field is
   * accepted and checked, but not required and not visible to the formulas.
   */
  reads: z.array(readPath).min(1).optional(),
  variables: z.record(name, variable),
  outcome: z.strictObject({
    period: z.enum(['week', 'month', 'year']),
    entitled: name,
    amount: name,
    elements: z.array(name),
    details: z.array(name).optional(),
  }),
  reasons: z.array(reason),
});

const parameterValue = z.strictObject({
  from: isoDate,
  value: z.union([z.number(), z.string(), z.boolean()]).optional(),
  unconfirmed: z.literal(true).optional(),
  /**
   * The figure is reproduced by secondary sources from the official paper but not yet read from
   * an official source: decisions that use it are made, and say so.
   */
  provisional: z.literal(true).optional(),
  source: z.string().min(1),
  note: z.string().optional(),
});

export const parameterSchema = z.strictObject({
  type: z.enum(['money', 'int', 'rate', 'bool', 'date']),
  label: z.string().min(1),
  legal: z.string().optional(),
  description: z.string().optional(),
  values: z.array(parameterValue).min(1),
});

export const parametersFileSchema = z.record(name, parameterSchema);

export type RuleSetFile = z.infer<typeof ruleSetFileSchema>;
export type InputsSpec = z.infer<typeof inputsSchema>;
export type HouseholdFile = z.infer<typeof householdFileSchema>;
export type FieldSpec = z.infer<typeof fieldSchema>;
export type ListInputSpec = z.infer<typeof listInput>;
export type VariableSpec = z.infer<typeof variable>;
export type ReasonSpec = z.infer<typeof reason>;
export type ParameterSpec = z.infer<typeof parameterSchema>;
export type ParameterValueSpec = z.infer<typeof parameterValue>;
export type ParametersFile = z.infer<typeof parametersFileSchema>;

/** A shape problem: where it is (a path into the file) and what is wrong. */
export interface ShapeIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Checks a parsed file against its schema, returning every issue at once. */
export function checkShape<S extends z.ZodType>(
  schema: S,
  data: unknown,
): { value?: z.infer<S>; issues: ShapeIssue[] } {
  const result = schema.safeParse(data, { reportInput: true });
  if (result.success) return { value: result.data, issues: [] };
  return {
    issues: result.error.issues.map((issue) => ({
      path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      message: plainIssue(issue),
    })),
  };
}

function plainIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length > 0 ? String(issue.path[issue.path.length - 1]) : 'the file';
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? `${where} is required` : `${where} should be ${issue.expected}`;
    case 'unrecognized_keys':
      return `${issue.keys.join(', ')} ${issue.keys.length === 1 ? 'is' : 'are'} not allowed here: check the spelling (see docs/rule-format.md)`;
    case 'invalid_union':
      return `${where} is not in a form the rule-set format allows (see docs/rule-format.md)`;
    case 'invalid_value':
      return `${where} must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
    default:
      return `${where}: ${issue.message}`;
  }
}
