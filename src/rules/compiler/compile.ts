import { EntitleError, type Problem } from '../../errors/index.ts';
import { compileExpression, parseExpression, T, typeName, type Expr, type Type } from '../expr/index.ts';
import { hashBundle, pathLocators, type BundleLocators, type RuleSetBundle } from '../format/index.ts';
import { orderByDependencies } from './graph.ts';
import { compileInputSchema, generateNormaliser, readHousehold, type InputSchema } from './inputs.ts';
import { compileParameters, type ParameterTable } from './parameters.ts';
import {
  helperSource,
  makeScope,
  RESERVED,
  substituteParameters,
  type DeclaredVariable,
  type Frame,
  type SymbolTable,
} from './scope.ts';
import { compileReasons } from './reasons.ts';
import { linkProgram, type EngineOverrides, type ProgramFunctions } from './runtime.ts';

/** Problems reported for one input at most; the rest are counted. */
export const MAX_PROBLEMS = 50;

/** A variable after compilation, in evaluation order. */
export interface CompiledVariable {
  readonly name: string;
  readonly list: string | undefined;
  readonly type: Type;
  readonly label: string | undefined;
  readonly legal: string | undefined;
  readonly formula: string;
  /** The variables its formula reads: what a change to this variable can follow from. */
  readonly reads: readonly string[];
}

/** Everything needed to evaluate a rule set; built only when the whole rule set is valid. */
export interface RuleProgram {
  readonly id: string;
  readonly title: string;
  readonly benefit: string;
  readonly period: 'week' | 'month' | 'year';
  readonly hash: string;
  readonly bundle: RuleSetBundle;
  readonly references: Readonly<Record<string, { title: string; url?: string }>>;
  /** What an assessment may hold: the rule set's inputs, or every household field (those read required). */
  readonly inputs: InputSchema;
  /**
   * The household fields the rule set reads, as every decision lists them (`adults[].dateOfBirth`);
   * undefined for a rule set with its own inputs, whose decisions do not list them.
   */
  readonly reads: readonly string[] | undefined;
  readonly parameters: ParameterTable;
  readonly variables: readonly CompiledVariable[];
  readonly outcome: {
    readonly entitled: string;
    readonly amount: string;
    readonly elements: readonly string[];
    readonly details: readonly string[];
  };
  readonly functions: ProgramFunctions;
  /** For each variable, the parameters its formula can read: bit i of its trace mask is entry i. */
  readonly traceCandidates: readonly (readonly number[])[];
  /** The generated JavaScript, kept for review and debugging. */
  readonly source: string;
}

export type CompileResult =
  { readonly ok: true; readonly program: RuleProgram } | { readonly ok: false; readonly problems: readonly Problem[] };

/**
 * Compiles a bundle: validates every name, type and dependency, reporting every problem at once
 * with its location, then generates and links the evaluator. Never throws for a bad rule set.
 */
export function compileBundle(
  bundle: RuleSetBundle,
  locators: BundleLocators = pathLocators(bundle.ruleset.id),
  engine?: EngineOverrides,
): CompileResult {
  const problems: Problem[] = [];
  const rules = bundle.ruleset;
  const at = (path: (string | number)[], message: string) => problems.push(locators.ruleset.at(path, message));

  const referenceKeys = new Set(Object.keys(rules.references));
  const parameters = compileParameters(bundle.parameters, referenceKeys, locators.parameters, problems);
  const { inputs, accepted, household, reads } = compileInputs(bundle, locators, problems);
  const used = new Set<string>();

  // One namespace: a name means one thing wherever it is read.
  const owners = new Map<string, string>();
  const claim = (name: string, what: string, report: (message: string) => void) => {
    if (RESERVED.has(name)) return report(`${name} is a reserved word of the rule language; choose another name`);
    if (name in Object.prototype)
      return report(`${name} is a reserved name (every JavaScript object has it); choose another name`);
    const previous = owners.get(name);
    if (previous) return report(`${name} is already ${previous}; every name must be unique`);
    owners.set(name, what);
  };
  for (const name of inputs.fields.keys()) claim(name, 'an input', (m) => at(['inputs', name], m));
  for (const name of inputs.lists.keys()) claim(name, 'an input list', (m) => at(['inputs', name], m));
  for (const p of parameters.parameters)
    claim(p.name, 'a parameter', (m) => problems.push(locators.parameters.at([p.name], m)));
  // A list's fields are read by bare name inside its for: variables, so they must not hide a
  // name of the whole rule set (two lists may share a field name, such as dateOfBirth).
  for (const list of inputs.lists.values()) {
    for (const field of list.fields.keys()) {
      const path = ['inputs', list.name, 'list', 'fields', field];
      if (field in Object.prototype)
        at(path, `${field} is a reserved name (every JavaScript object has it); choose another name`);
      else if (RESERVED.has(field)) at(path, `${field} is a reserved word of the rule language; choose another name`);
      else if (owners.has(field))
        at(
          path,
          `${field} is also ${owners.get(field)}; rename one, as inside a for: variable the field would hide it`,
        );
    }
  }

  const declared = new Map<string, DeclaredVariable>();
  for (const [name, spec] of Object.entries(rules.variables)) {
    claim(name, 'a variable', (m) => at(['variables', name], m));
    for (const list of inputs.lists.values()) {
      if (list.fields.has(name))
        at(
          ['variables', name],
          `${name} is also a field of ${list.name}; rename one, as inside a for: variable the field would hide it`,
        );
    }
    if (spec.for !== undefined) {
      const list = inputs.lists.get(spec.for);
      if (!list)
        at(
          ['variables', name, 'for'],
          `${spec.for} is not an input list; use one of ${[...inputs.lists.keys()].join(', ')}`,
        );
    }
    declared.set(name, {
      name,
      type: T[spec.type],
      ...(spec.for && inputs.lists.has(spec.for) ? { list: spec.for } : {}),
    });
  }
  const symbols: SymbolTable = {
    inputs,
    parameters,
    variables: declared,
    used,
    ...(household ? { household } : {}),
  };

  // Parse every formula, then find what each reads.
  const parsed = new Map<string, Expr>();
  const deps = new Map<string, Set<string>>();
  for (const [name, spec] of Object.entries(rules.variables)) {
    const result = parseExpression(spec.formula);
    if (!result.ok) {
      problems.push(locators.ruleset.inside(['variables', name, 'formula'], result.error.offset, result.error.message));
      continue;
    }
    parsed.set(name, result.expr);
    deps.set(name, variableReads(result.expr, declared));
  }
  const { order, cycles } = orderByDependencies(deps);
  for (const cycle of cycles) {
    at(['variables', cycle[0]!, 'formula'], `these variables depend on each other in a circle: ${cycle.join(' -> ')}`);
  }

  // Type-check and generate each formula.
  const helpers = new Map<string, string>();
  const statements: { name: string; code: string }[] = [];
  for (const name of order) {
    const expr = parsed.get(name)!;
    const variable = declared.get(name)!;
    const frame: Frame = { mode: 'locals', ...(variable.list ? { list: variable.list } : {}) };
    const result = compileExpression(expr, makeScope(symbols, frame, helpers));
    if (!result.ok) {
      for (const error of result.errors)
        problems.push(locators.ruleset.inside(['variables', name, 'formula'], error.offset, error.message));
      continue;
    }
    if (
      result.type.t !== variable.type.t &&
      !(result.code === '0' && ['money', 'rate', 'int'].includes(variable.type.t))
    ) {
      at(
        ['variables', name, 'type'],
        `${name} is declared as ${typeName(variable.type)} but its formula gives ${typeName(result.type)}`,
      );
      continue;
    }
    if (candidatesOf(result.code).length > 30) {
      at(
        ['variables', name, 'formula'],
        `${name} reads more than 30 parameters; split it into smaller variables so each can be traced`,
      );
      continue;
    }
    statements.push({ name, code: result.code });
  }

  const outcome = {
    entitled: rules.outcome.entitled,
    amount: rules.outcome.amount,
    elements: rules.outcome.elements,
    details: rules.outcome.details ?? [],
  };
  const outcomeRef = (path: (string | number)[], name: string, type?: Type['t']) => {
    const variable = declared.get(name);
    if (!variable) return at(path, `${name} is not a variable of this rule set`);
    if (variable.list)
      return at(path, `${name} is worked out for each entry of ${variable.list}; report a total instead`);
    if (type && variable.type.t !== type)
      at(path, `${name} must be ${typeName(T[type as 'money'])}, but it is ${typeName(variable.type)}`);
  };
  outcomeRef(['outcome', 'entitled'], outcome.entitled, 'bool');
  outcomeRef(['outcome', 'amount'], outcome.amount, 'money');
  outcome.elements.forEach((name, i) => outcomeRef(['outcome', 'elements', i], name, 'money'));
  outcome.details.forEach((name, i) => outcomeRef(['outcome', 'details', i], name));

  const slots = new Map(order.map((name, index) => [name, index]));
  const reasons = compileReasons(rules.reasons, { ...symbols, slots }, helpers, locators.ruleset, problems);
  // A field read is a field used: so the list each decision gives of the fields it used is true.
  rules.reads?.forEach((path, i) => {
    const [head = '', tail] = path.split('.');
    const valid =
      tail === undefined ? inputs.fields.has(head) || inputs.lists.has(head) : inputs.lists.get(head)?.fields.has(tail);
    if (!household || !valid) return;
    const isUsed =
      tail !== undefined || !inputs.lists.has(head) ? used.has(path) : [...used].some((u) => u.split('.')[0] === head);
    if (!isUsed) at(['reads', i], `${path} is read but no formula or reason uses it: remove it from reads`);
  });
  if (problems.length > 0) return { ok: false, problems };

  // One object shape for every variable (absent parts undefined): the trace reads these on
  // every traced assessment, and mixed shapes make each read slow.
  const variables: CompiledVariable[] = order.map((name) => {
    const spec = rules.variables[name]!;
    return {
      name,
      list: spec.for,
      type: declared.get(name)!.type,
      label: spec.label,
      legal: spec.legal,
      formula: spec.formula.trim(),
      reads: [...deps.get(name)!],
    };
  });
  const source = generateModule({
    inputs: accepted,
    household: household !== undefined,
    provisional: new Set(parameters.parameters.filter((p) => p.entries.some((e) => e.provisional)).map((p) => p.index)),
    variables,
    statements,
    outcome,
    period: rules.outcome.period,
    helpers,
    reasons,
  });
  let functions: ProgramFunctions;
  try {
    functions = linkProgram(source, engine);
  } catch (error) {
    // Generated code that does not parse is a compiler bug, never a rule-set problem.
    throw new EntitleError(
      'ENTITLE_EVALUATION_FAILED',
      `the compiler generated invalid code for ${rules.id}: ${(error as Error).message}`,
    );
  }
  return {
    ok: true,
    program: {
      id: rules.id,
      title: rules.title,
      benefit: rules.benefit,
      period: rules.outcome.period,
      hash: hashBundle(bundle),
      bundle,
      references: rules.references,
      inputs: accepted,
      reads,
      parameters,
      variables,
      outcome,
      functions,
      traceCandidates: statements.map(({ code }) => candidatesOf(code)),
      source,
    },
  };
}

/** Variables a formula reads: names, and list fields that are variables (`children.childElement`). */
function variableReads(expr: Expr, declared: ReadonlyMap<string, DeclaredVariable>): Set<string> {
  const reads = new Set<string>();
  const walk = (node: Expr): void => {
    switch (node.kind) {
      case 'name':
        if (declared.has(node.name)) reads.add(node.name);
        break;
      case 'member':
        if (declared.get(node.property)?.list === node.object) reads.add(node.property);
        break;
      case 'call':
        node.args.forEach(walk);
        break;
      case 'unary':
        walk(node.argument);
        break;
      case 'binary':
        walk(node.left);
        walk(node.right);
        break;
      case 'conditional':
        walk(node.test);
        walk(node.then);
        walk(node.otherwise);
        break;
      default:
        break;
    }
  };
  walk(expr);
  return reads;
}

/**
 * The inputs of a rule set: its own `inputs`, or the household model narrowed to what it `reads`.
 * `inputs` is what formulas see, `accepted` what the normaliser checks.
 */
function compileInputs(
  bundle: RuleSetBundle,
  locators: BundleLocators,
  problems: Problem[],
): { inputs: InputSchema; accepted: InputSchema; household?: InputSchema; reads: readonly string[] | undefined } {
  const rules = bundle.ruleset;
  const empty: InputSchema = { fields: new Map(), lists: new Map() };
  if (rules.reads !== undefined && rules.inputs !== undefined) {
    problems.push(
      locators.ruleset.at(['inputs'], 'give reads (the household fields the rule set reads) or inputs, not both'),
    );
  }
  if (rules.reads === undefined) {
    if (rules.inputs === undefined) {
      problems.push(locators.ruleset.at(['reads'], 'reads is required: list the household fields the rule set reads'));
      return { inputs: empty, accepted: empty, reads: undefined };
    }
    const own = compileInputSchema(rules.inputs, locators.ruleset, problems);
    return { inputs: own, accepted: own, reads: undefined };
  }
  if (!bundle.household) {
    problems.push(locators.ruleset.at(['reads'], 'the bundle has no household model to read from'));
    return { inputs: empty, accepted: empty, reads: undefined };
  }
  const household = compileInputSchema(bundle.household.fields, locators.household, problems);
  const narrowed = readHousehold(household, rules.reads, locators.ruleset, problems);
  return { inputs: narrowed.visible, accepted: narrowed.accepted, household, reads: narrowed.reads };
}

interface ModuleParts {
  readonly inputs: InputSchema;
  /** The inputs are the household model: an unknown field is "not a field of the household". */
  readonly household: boolean;
  /** Parameters with a provisional value on some date: each read of one is noted. */
  readonly provisional: ReadonlySet<number>;
  readonly variables: readonly CompiledVariable[];
  readonly statements: readonly { name: string; code: string }[];
  readonly outcome: RuleProgram['outcome'];
  readonly period: string;
  readonly helpers: ReadonlyMap<string, string>;
  readonly reasons: string;
}

/** The parameters a formula can read, in order of first mention: bit i of its trace mask is candidate i. */
function candidatesOf(code: string): number[] {
  const found: number[] = [];
  substituteParameters(code, (k) => {
    if (!found.includes(Number(k))) found.push(Number(k));
    return '';
  });
  return found;
}

/** Assembles the generated module: helpers, normaliser, the three evaluators and the reasons. */
function generateModule(parts: ModuleParts): string {
  const byName = new Map(parts.variables.map((v) => [v.name, v]));
  const body = (traced: boolean) =>
    parts.statements
      .map(({ name, code }, index) => {
        const v = byName.get(name)!;
        // Traced: each read sets the parameter's bit in the variable's mask m_<index>.
        const candidates = traced ? candidatesOf(code) : [];
        // A parameter that is provisional on some date notes each read in R, so the decision can
        // say which provisional figures it used (the snapshot says which are provisional that day).
        const read = (k: string) =>
          parts.provisional.has(Number(k)) ? `(R[${k}] = 1, P[${k}] ?? U(${k}))` : `(P[${k}] ?? U(${k}))`;
        const expr = substituteParameters(code, (k) =>
          traced ? `(m_${index} |= ${1 << candidates.indexOf(Number(k))}, ${read(k)})` : read(k),
        );
        const mark = traced ? `let m_${index} = 0; ` : '';
        if (!v.list) return `${mark}const v_${name} = ${expr};`;
        return `${mark}const ev_${name} = new Array(I.${v.list}.length); for (let i = 0; i < ev_${name}.length; i++) { const e = I.${v.list}[i]; ev_${name}[i] = ${expr}; }`;
      })
      .join('\n');
  const out = (name: string) => {
    const t = byName.get(name)!.type.t;
    if (t === 'money') return `v_${name} / 100`;
    if (t === 'rate') return `v_${name} / 1000000`;
    if (t === 'date') return `fmtIso(v_${name})`;
    return `v_${name}`;
  };
  const record = (names: readonly string[]) => `{ ${names.map((n) => `${JSON.stringify(n)}: ${out(n)}`).join(', ')} }`;
  const outcome =
    `{ entitled: v_${parts.outcome.entitled}, amount: v_${parts.outcome.amount} / 100, period: ${JSON.stringify(parts.period)}, ` +
    `elements: ${record(parts.outcome.elements)}${parts.outcome.details.length > 0 ? `, details: ${record(parts.outcome.details)}` : ''} }`;
  // Every amount reported must be held exactly. Values are whole numbers by construction (no
  // operation makes a fraction of a penny), so it is enough that each lies within the safe-integer
  // range; NaN fails the comparison too. Plain comparisons: this runs for every assessment.
  const reported = [...new Set([parts.outcome.amount, ...parts.outcome.elements, ...parts.outcome.details])].filter(
    (n) => ['money', 'int'].includes(byName.get(n)!.type.t),
  );
  const guard = `if (!(${reported.map((n) => `v_${n} <= ${Number.MAX_SAFE_INTEGER} && v_${n} >= ${-Number.MAX_SAFE_INTEGER}`).join(' && ') || 'true'})) tooLarge();`;
  const values = `[${parts.variables.map((v) => (v.list ? `ev_${v.name}` : `v_${v.name}`)).join(', ')}]`;
  const masks = `[${parts.variables.map((_, index) => `m_${index}`).join(', ')}]`;
  return [
    '"use strict";',
    'const { mulRate, ageOn, ceilDiv, floorDiv, tooLarge, unlessUnconfirmed, ordinal, U, toPence, toDay, fmtMoney, fmtDate, fmtRate, fmtIso, fieldName, unknownField } = rt;',
    helperSource(parts.helpers),
    // At most MAX_PROBLEMS problems are kept: hostile input with thousands of bad fields costs no more.
    `function E(errors, field, message) { if (errors.length < ${MAX_PROBLEMS}) errors.push({ field, message }); else errors.more = (errors.more ?? 0) + 1; }`,
    `function normalise(h, A, errors) {\n${generateNormaliser(parts.inputs, parts.household)}\n}`,
    `function fast(I, P, R) {\n${body(false)}\n${guard}\nreturn ${outcome};\n}`,
    `function withValues(I, P, R) {\n${body(false)}\n${guard}\nreturn { outcome: ${outcome}, values: ${values} };\n}`,
    `function traced(I, P, R) {\n${body(true)}\n${guard}\nreturn { outcome: ${outcome}, values: ${values}, masks: ${masks} };\n}`,
    `function reasons(I, V, P) { const out = [];\n${parts.reasons}\nreturn out; }`,
    'return { normalise, fast, withValues, traced, reasons };',
  ].join('\n');
}
