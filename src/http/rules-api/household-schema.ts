import type { RuleSet } from '../../rules/index.ts';

/**
 * The household and the assessment contract as JSON Schema, from the same declarations the
 * engine's validator is generated from: for the OpenAPI document and GET /v1/household-schema.
 */
type JsonSchema = Record<string, unknown>;
type InputField = RuleSet['program']['inputs']['fields'] extends ReadonlyMap<string, infer F> ? F : never;

/** A rule-set input field as JSON Schema: the same declaration the engine's validator is generated from. */
function fieldSchema(field: InputField): JsonSchema {
  const description = field.description ? { description: field.description } : {};
  switch (field.type.t) {
    case 'money':
      return {
        type: 'number',
        ...(field.min !== undefined ? { minimum: field.min / 100 } : {}),
        ...(field.max !== undefined ? { maximum: field.max / 100 } : {}),
        description: `Pounds, at most 2 decimal places.${field.description ? ` ${field.description}` : ''}`,
      };
    case 'int':
      return {
        type: 'integer',
        ...(field.min !== undefined ? { minimum: field.min } : {}),
        ...(field.max !== undefined ? { maximum: field.max } : {}),
        ...description,
      };
    case 'bool':
      return { type: 'boolean', ...description };
    case 'date':
      return {
        type: 'string',
        format: 'date',
        ...dateDescription(field),
      };
    case 'enum':
      return { type: 'string', enum: field.type.values, ...description };
    default:
      return { type: 'string', ...description };
  }
}

/** A date field's limits in words: after the earliest plausible date, not after the assessment, an age. */
function dateDescription(field: InputField): JsonSchema {
  const limits = [
    field.notBefore ? `On or after ${field.notBefore.text}.` : '',
    field.notAfterAssessmentDate ? 'Not after the assessment date.' : '',
    field.ageUnder !== undefined ? `Under ${field.ageUnder} years old on the assessment date.` : '',
    field.description ?? '',
  ].filter(Boolean);
  return limits.length > 0 ? { description: limits.join(' ') } : {};
}

function objectOf(
  fields: ReadonlyMap<string, InputField>,
  extra: Record<string, { schema: JsonSchema; required: boolean }> = {},
): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, { schema, required: needed }] of Object.entries(extra)) {
    properties[name] = schema;
    if (needed) required.push(name);
  }
  for (const [name, field] of fields) {
    properties[name] = fieldSchema(field);
    if (field.required) required.push(name);
  }
  return { type: 'object', additionalProperties: false, required, properties };
}

/**
 * The household as JSON Schema: every field an assessment may hold. Those the rule set reads are
 * required; the rest (fields other benefits read) are accepted and checked when given.
 */
export function householdSchema(inputs: RuleSet['program']['inputs']): JsonSchema {
  const lists: Record<string, { schema: JsonSchema; required: boolean }> = {};
  for (const [name, list] of inputs.lists) {
    lists[name] = {
      schema: { type: 'array', minItems: list.min, maxItems: list.max, items: objectOf(list.fields) },
      required: list.required,
    };
  }
  return objectOf(inputs.fields, lists);
}

/** The assessment contract for one rule set, as JSON Schema. */
export function assessmentRequestSchema(ruleSet: RuleSet): JsonSchema {
  return {
    title: `${ruleSet.title} assessment`,
    type: 'object',
    additionalProperties: false,
    required: ['benefit', 'applicationId', 'assessmentDate', 'household'],
    properties: {
      benefit: { const: ruleSet.benefit },
      applicationId: {
        type: 'string',
        pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$',
        description: 'The application reference.',
      },
      assessmentDate: { type: 'string', format: 'date', description: 'The first day of the assessment period.' },
      household: householdSchema(ruleSet.program.inputs),
    },
  };
}

/**
 * One household for several benefits: the fields any of them reads, none required here (each
 * benefit requires its own, and the service names any missing); each benefit's reads are listed
 * under x-entitle-reads.
 */
export function combinedHouseholdSchema(ruleSets: readonly RuleSet[]): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const ruleSet of ruleSets) {
    const schema = householdSchema(ruleSet.program.inputs) as { properties: Record<string, JsonSchema> };
    for (const [name, field] of Object.entries(schema.properties)) properties[name] ??= withoutRequired(field);
  }
  return {
    title: 'Household',
    type: 'object',
    additionalProperties: false,
    properties,
    'x-entitle-reads': Object.fromEntries(ruleSets.map((r) => [r.benefit, readsOf(r)])),
  };
}

/**
 * The fields a rule set reads, as decisions list them (`adults[].dateOfBirth`); for one with its
 * own inputs, every one of them.
 */
export function readsOf(ruleSet: RuleSet): readonly string[] {
  const { reads, inputs } = ruleSet.program;
  return (
    reads ?? [
      ...inputs.fields.keys(),
      ...[...inputs.lists.values()].flatMap((l) => [...l.fields.keys()].map((f) => `${l.name}[].${f}`)),
    ]
  );
}

function withoutRequired(schema: JsonSchema): JsonSchema {
  const copy: JsonSchema = { ...schema };
  if ('required' in copy) copy.required = [];
  if (copy.items && typeof copy.items === 'object') copy.items = withoutRequired(copy.items as JsonSchema);
  return copy;
}

/** An assessment of one household for several benefits: one decision each, recorded together. */
export function severalBenefitsRequestSchema(ruleSets: readonly RuleSet[]): JsonSchema {
  return {
    title: 'Assessment for several benefits',
    type: 'object',
    additionalProperties: false,
    required: ['benefits', 'applicationId', 'assessmentDate', 'household'],
    properties: {
      benefits: {
        type: 'array',
        minItems: 1,
        maxItems: 10,
        uniqueItems: true,
        items: { enum: ruleSets.map((r) => r.benefit) },
      },
      applicationId: {
        type: 'string',
        pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$',
        description: 'The application reference.',
      },
      assessmentDate: { type: 'string', format: 'date', description: 'The first day of the assessment period.' },
      household: combinedHouseholdSchema(ruleSets),
    },
  };
}
