import { T, isOrdered, sameType, typeName, type Type } from './types.ts';

/** A checked argument: its type, generated code, and whether it is the literal 0. */
export interface Arg {
  readonly type: Type;
  readonly code: string;
  readonly zero: boolean;
  /** For a projection `list.field`, how to read one element, given the element index `i`. */
  readonly element?: { readonly list: string; readonly read: (index: string) => string };
}

export interface CallContext {
  /** Registers a helper function in the generated module and returns its name. */
  helper(body: (name: string) => string): string;
}

export type CallResult = { readonly type: Type; readonly code: string } | { readonly error: string };

interface BuiltIn {
  readonly usage: string;
  readonly summary: string;
  readonly compile: (args: readonly Arg[], ctx: CallContext) => CallResult;
}

const fail = (error: string): CallResult => ({ error });

function arity(args: readonly Arg[], n: number, usage: string): string | undefined {
  return args.length === n ? undefined : `takes ${n} argument${n === 1 ? '' : 's'}: ${usage}`;
}

/** The common type of two or more arguments, letting the literal 0 stand for money or a rate. */
export function unify(args: readonly Arg[]): Type | undefined {
  const typed = args.find((a) => !a.zero) ?? args[0];
  if (!typed) return undefined;
  for (const arg of args) {
    if (arg.zero && (typed.type.t === 'money' || typed.type.t === 'rate' || typed.type.t === 'int')) continue;
    if (!sameType(arg.type, typed.type)) return undefined;
  }
  return typed.type;
}

function projection(arg: Arg | undefined, name: string, usage: string): NonNullable<Arg['element']> | string {
  if (!arg?.element) return `${name} needs a list field, such as ${usage}`;
  return arg.element;
}

function loop(
  ctx: CallContext,
  element: NonNullable<Arg['element']>,
  init: string,
  step: string,
  result: string,
): string {
  return ctx.helper(
    (name) =>
      `function ${name}(L) { let r = ${init}; for (let i = 0; i < L.length; i++) { const x = ${element.read('i')}; ${step} } return ${result}; }`,
  );
}

/** The built-in functions of the rule language, with their usage for error messages and docs. */
export const builtIns: Record<string, BuiltIn> = {
  if: {
    usage: 'if(condition, valueIfTrue, valueIfFalse)',
    summary: 'Chooses between two values of the same type; only the chosen one is worked out.',
    compile(args) {
      const bad = arity(args, 3, this.usage);
      if (bad) return fail(bad);
      if (args[0]!.type.t !== 'bool')
        return fail(`the condition must be true or false, not ${typeName(args[0]!.type)}`);
      const type = unify(args.slice(1));
      if (!type)
        return fail(
          `both choices must have the same type, not ${typeName(args[1]!.type)} and ${typeName(args[2]!.type)}`,
        );
      return { type, code: `(${args[0]!.code} ? ${args[1]!.code} : ${args[2]!.code})` };
    },
  },
  min: {
    usage: 'min(a, b, ...) or min(list.field)',
    summary: 'The smallest of its arguments, or of a list field (0 for an empty list).',
    compile: (args, ctx) => extreme('min', args, ctx),
  },
  max: {
    usage: 'max(a, b, ...) or max(list.field)',
    summary: 'The largest of its arguments, or of a list field (0 for an empty list).',
    compile: (args, ctx) => extreme('max', args, ctx),
  },
  sum: {
    usage: 'sum(list.field)',
    summary: 'The total of a money or whole-number field over a list.',
    compile(args, ctx) {
      const bad = arity(args, 1, this.usage);
      if (bad) return fail(bad);
      const element = projection(args[0], 'sum', 'sum(children.childElement)');
      if (typeof element === 'string') return fail(element);
      const of = (args[0]!.type as { of: Type }).of;
      if (of.t !== 'money' && of.t !== 'int') return fail(`can add up money or whole numbers, not ${typeName(of)}`);
      return { type: of, code: `${loop(ctx, element, '0', 'r += x;', 'r')}(${args[0]!.code})` };
    },
  },
  count: {
    usage: 'count(list) or count(list.condition)',
    summary: 'How many entries a list has, or for how many of them a true-or-false field is true.',
    compile(args, ctx) {
      const bad = arity(args, 1, this.usage);
      if (bad) return fail(bad);
      const arg = args[0]!;
      if (arg.type.t === 'entities') return { type: T.int, code: `${arg.code}.length` };
      const element = projection(arg, 'count', 'count(children.eligibleForChildElement)');
      if (typeof element === 'string') return fail(element);
      if ((arg.type as { of: Type }).of.t !== 'bool') return fail('counts a list, or a true-or-false field of a list');
      return { type: T.int, code: `${loop(ctx, element, '0', 'if (x) r++;', 'r')}(${arg.code})` };
    },
  },
  any: {
    usage: 'any(list.condition)',
    summary: 'True when a true-or-false field is true for at least one entry of a list.',
    compile: (args, ctx) => quantifier('any', args, ctx),
  },
  all: {
    usage: 'all(list.condition)',
    summary: 'True when a true-or-false field is true for every entry of a list (true for an empty list).',
    compile: (args, ctx) => quantifier('all', args, ctx),
  },
  ageOn: {
    usage: 'ageOn(dateOfBirth, date)',
    summary: 'Age in whole years on a date.',
    compile(args) {
      const bad = arity(args, 2, this.usage);
      if (bad) return fail(bad);
      if (args[0]!.type.t !== 'date' || args[1]!.type.t !== 'date') return fail('takes two dates');
      return { type: T.int, code: `ageOn(${args[0]!.code}, ${args[1]!.code})` };
    },
  },
  ceilDiv: {
    usage: 'ceilDiv(amount, step)',
    summary: 'How many whole steps, counting a part step as a whole one: ceilDiv(£260, £250) is 2.',
    compile: (args) => division('ceil', args),
  },
  floorDiv: {
    usage: 'floorDiv(amount, step)',
    summary: 'How many whole steps, ignoring a part step: floorDiv(£260, £250) is 1.',
    compile: (args) => division('floor', args),
  },
  floorPounds: {
    usage: 'floorPounds(amount)',
    summary: 'An amount rounded down to the whole pound.',
    compile(args) {
      const bad = arity(args, 1, this.usage);
      if (bad) return fail(bad);
      if (args[0]!.type.t !== 'money') return fail(`takes money, not ${typeName(args[0]!.type)}`);
      return { type: T.money, code: `(Math.floor(${args[0]!.code} / 100) * 100)` };
    },
  },
  ordinal: {
    usage: 'ordinal(number)',
    summary: 'A position in words: ordinal(1) is "first".',
    compile(args) {
      const bad = arity(args, 1, this.usage);
      if (bad) return fail(bad);
      if (args[0]!.type.t !== 'int') return fail('takes a whole number');
      return { type: T.string, code: `ordinal(${args[0]!.code})` };
    },
  },
};

function extreme(which: 'min' | 'max', args: readonly Arg[], ctx: CallContext): CallResult {
  if (args.length === 1) {
    const element = projection(args[0], which, `${which}(children.age)`);
    if (typeof element === 'string') return fail(element);
    const of = (args[0]!.type as { of: Type }).of;
    if (!isOrdered(of)) return fail(`needs values that can be ordered, not ${typeName(of)}`);
    const step = `if (i === 0 || x ${which === 'min' ? '<' : '>'} r) r = x;`;
    return { type: of, code: `${loop(ctx, element, '0', step, 'r')}(${args[0]!.code})` };
  }
  if (args.length < 2) return fail(`takes two or more values, or one list field: ${which}(a, b)`);
  const type = unify(args);
  if (!type || !isOrdered(type))
    return fail('needs values of the same type that can be ordered (money, whole numbers, rates or dates)');
  return { type, code: `Math.${which}(${args.map((a) => a.code).join(', ')})` };
}

function quantifier(which: 'any' | 'all', args: readonly Arg[], ctx: CallContext): CallResult {
  if (args.length !== 1) return fail(`takes 1 argument: ${which}(list.condition)`);
  const element = projection(args[0], which, `${which}(adults.hasLcwra)`);
  if (typeof element === 'string') return fail(element);
  if ((args[0]!.type as { of: Type }).of.t !== 'bool') return fail('needs a true-or-false field of a list');
  const step = which === 'any' ? 'if (x) return true;' : 'if (!x) return false;';
  return { type: T.bool, code: `${loop(ctx, element, String(which === 'all'), step, 'r')}(${args[0]!.code})` };
}

function division(which: 'ceil' | 'floor', args: readonly Arg[]): CallResult {
  if (args.length !== 2) return fail(`takes 2 arguments: ${which}Div(amount, step)`);
  const [a, b] = args as [Arg, Arg];
  const ok = (a.type.t === 'money' && b.type.t === 'money') || (a.type.t === 'int' && b.type.t === 'int');
  if (!ok)
    return fail(
      `divides money by money or a whole number by a whole number, not ${typeName(a.type)} by ${typeName(b.type)}`,
    );
  // Both operands are safe integers, so the quotient rounds correctly (see runtime.ts).
  return { type: T.int, code: `${which}Div(${a.code}, ${b.code})` };
}
