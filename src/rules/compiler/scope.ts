import type { ExprScope, ListField, NameBinding } from '../expr/index.ts';
import { builtIns, T, type Type } from '../expr/index.ts';
import type { InputSchema } from './inputs.ts';
import type { ParameterTable } from './parameters.ts';

/** A variable as the compiler knows it before its formula is compiled. */
export interface DeclaredVariable {
  readonly name: string;
  readonly list?: string;
  readonly type: Type;
}

/** Every name of a rule set, for scopes to resolve. */
export interface SymbolTable {
  readonly inputs: InputSchema;
  readonly parameters: ParameterTable;
  readonly variables: ReadonlyMap<string, DeclaredVariable>;
  /** Position of each variable in evaluation order: the index of its value in the values array. */
  readonly slots?: ReadonlyMap<string, number>;
  /** Every household field, for a rule set that reads from the household model: to say what to add to reads. */
  readonly household?: InputSchema;
  /** The inputs formulas have read so far: `capital`, `adults`, `adults.dateOfBirth`. */
  readonly used?: Set<string>;
}

/**
 * Where generated code reads values from: `locals` inside the evaluator (variables are local
 * constants), `values` inside the explanation code (variables come from the returned record).
 */
export type Frame = { readonly mode: 'locals' | 'values'; readonly list?: string };

/**
 * Marks a parameter read in generated code; replaced per variant (fast, traced). The marker uses
 * a control character because one can never appear raw in the JSON-escaped string literals that
 * carry rule-set text into the code, so a formula's own text can never be taken for a marker.
 */
export const paramPlaceholder = (index: number) => `\u0001${index}\u0001`;

// eslint-disable-next-line no-control-regex -- the marker is a control character on purpose, see above
const PLACEHOLDER = /\u0001(\d+)\u0001/g;

/** Replaces every parameter marker with the code that reads that parameter. */
export function substituteParameters(code: string, read: (index: string) => string): string {
  return code.replace(PLACEHOLDER, (_, index: string) => read(index));
}

export const RESERVED = new Set(['assessmentDate', 'position', ...Object.keys(builtIns)]);

/** Builds the scope a formula is compiled in: one shared helper registry, one frame. */
export function makeScope(symbols: SymbolTable, frame: Frame, helpers: Map<string, string>): ExprScope {
  const slot = (name: string) => `V[${symbols.slots?.get(name) ?? -1}]`;
  const variable = (name: string) => (frame.mode === 'locals' ? `v_${name}` : slot(name));
  const array = (name: string) => (frame.mode === 'locals' ? `ev_${name}` : slot(name));
  const entityRow = (list: string) => (frame.mode === 'locals' ? 'e' : `I.${list}[i]`);

  const resolve = (name: string): NameBinding | undefined => {
    if (frame.list) {
      const list = symbols.inputs.lists.get(frame.list)!;
      const field = list.fields.get(name);
      if (field) {
        symbols.used?.add(`${frame.list}.${name}`);
        return { kind: 'value', type: field.type, code: `${entityRow(frame.list)}.${name}` };
      }
      const own = symbols.variables.get(name);
      if (own?.list === frame.list) return { kind: 'value', type: own.type, code: `${array(name)}[i]` };
      if (name === 'position') return { kind: 'value', type: T.int, code: '(i + 1)' };
    }
    if (name === 'assessmentDate') return { kind: 'value', type: T.date, code: 'I.assessmentDate' };
    const input = symbols.inputs.fields.get(name);
    if (input) {
      symbols.used?.add(name);
      return { kind: 'value', type: input.type, code: `I.${name}` };
    }
    if (symbols.inputs.lists.has(name)) {
      symbols.used?.add(name);
      return { kind: 'list', list: name, code: `I.${name}` };
    }
    const declared = symbols.variables.get(name);
    if (declared && declared.list === undefined) return { kind: 'value', type: declared.type, code: variable(name) };
    const parameter = symbols.parameters.byName.get(name);
    if (parameter) return { kind: 'value', type: parameter.type, code: paramPlaceholder(parameter.index) };
    return undefined;
  };

  return {
    resolve,
    field(listName: string, name: string): ListField | undefined {
      const list = symbols.inputs.lists.get(listName);
      const field = list?.fields.get(name);
      if (field) {
        symbols.used?.add(`${listName}.${name}`);
        return { type: field.type, listCode: `I.${listName}`, read: (i) => `L[${i}].${name}` };
      }
      const declared = symbols.variables.get(name);
      if (declared?.list === listName) return { type: declared.type, listCode: array(name), read: (i) => `L[${i}]` };
      return undefined;
    },
    names() {
      const own = frame.list ? [...symbols.inputs.lists.get(frame.list)!.fields.keys()] : [];
      return [
        ...own,
        ...symbols.inputs.fields.keys(),
        ...symbols.inputs.lists.keys(),
        ...symbols.variables.keys(),
        ...symbols.parameters.byName.keys(),
      ];
    },
    whyNot(name: string) {
      const declared = symbols.variables.get(name);
      if (declared?.list !== undefined && declared.list !== frame.list) {
        return `${name} is worked out for each entry of ${declared.list}: read it through the list, such as sum(${declared.list}.${name})`;
      }
      for (const list of symbols.inputs.lists.values()) {
        const field = list.fields.get(name);
        if (list.name !== frame.list && field) {
          const example =
            field.type.t === 'bool' ? 'any' : field.type.t === 'money' || field.type.t === 'int' ? 'sum' : 'max';
          return `${name} is a field of each entry of ${list.name}: read it through the list, such as ${example}(${list.name}.${name})`;
        }
      }
      if (name === 'position')
        return 'position is only known inside a variable worked out for each entry of a list (one with for:)';
      const household = symbols.household;
      if (household) {
        if (household.fields.has(name) || household.lists.has(name))
          return `${name} is a household field this rule set does not read: add ${name} to reads`;
        for (const list of household.lists.values())
          if (list.fields.has(name))
            return `${name} is a field of each entry of ${list.name} this rule set does not read: add ${list.name}.${name} to reads`;
      }
      return undefined;
    },
    helper(body: (name: string) => string): string {
      const probe = body('HELPER');
      const existing = helpers.get(probe);
      if (existing) return existing;
      const name = `h${helpers.size}`;
      helpers.set(probe, name);
      return name;
    },
  };
}

/** The helper functions registered while compiling, as source text. */
export function helperSource(helpers: ReadonlyMap<string, string>): string {
  return [...helpers].map(([probe, name]) => probe.replace('function HELPER(', `function ${name}(`)).join('\n');
}
