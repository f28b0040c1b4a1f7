import { distance } from 'fastest-levenshtein';
import type { Expr } from './ast.ts';
import { builtIns, unify, type Arg, type CallContext } from './functions.ts';
import { T, isOrdered, typeName, type Type } from './types.ts';

/** What a name means where an expression is compiled. */
export type NameBinding =
  | { readonly kind: 'value'; readonly type: Type; readonly code: string }
  | { readonly kind: 'list'; readonly list: string; readonly code: string };

/** How a field of a list reads, for projections such as `children.childElement`. */
export interface ListField {
  readonly type: Type;
  /** Code for the list the helper loops over. */
  readonly listCode: string;
  /** Code reading the field of element `index` of list `L`. */
  readonly read: (index: string) => string;
}

export interface ExprScope extends CallContext {
  resolve(name: string): NameBinding | undefined;
  field(list: string, field: string): ListField | undefined;
  /** Every name that could have been meant, for "did you mean" hints. */
  names(): Iterable<string>;
  /** Why a name that exists elsewhere in the rule set cannot be read here, if it can't. */
  whyNot?(name: string): string | undefined;
}

export interface ExprError {
  readonly offset: number;
  readonly message: string;
}

export type CompiledExpr =
  | { readonly ok: true; readonly type: Type; readonly code: string }
  | { readonly ok: false; readonly errors: readonly ExprError[] };

type Checked = Arg & { readonly start: number };

class Failed {
  constructor(readonly errors: ExprError[]) {}
}

/**
 * Type-checks an expression and generates the JavaScript that computes it, in one pass. Every
 * error found is returned, each with the offset of the token at fault; nothing is thrown.
 */
export function compileExpression(expr: Expr, scope: ExprScope): CompiledExpr {
  const errors: ExprError[] = [];
  const result = check(expr, scope, errors);
  if (errors.length > 0 || result instanceof Failed) return { ok: false, errors };
  return { ok: true, type: result.type, code: result.code };
}

function check(expr: Expr, scope: ExprScope, errors: ExprError[]): Checked | Failed {
  const fail = (message: string, offset = expr.start): Failed => {
    errors.push({ offset, message });
    return new Failed(errors);
  };
  switch (expr.kind) {
    case 'number': {
      if (!/^\d+$/.test(expr.raw)) {
        return fail(`${expr.raw} is not a whole number: write amounts and rates as parameters, with their source`);
      }
      const value = Number(expr.raw);
      if (!Number.isSafeInteger(value)) return fail(`${expr.raw} is too large`);
      return { type: T.int, code: String(value), zero: value === 0, start: expr.start };
    }
    case 'string':
      return { type: T.string, code: JSON.stringify(expr.value), zero: false, start: expr.start };
    case 'boolean':
      return { type: T.bool, code: String(expr.value), zero: false, start: expr.start };
    case 'name': {
      const binding = scope.resolve(expr.name);
      if (!binding) return fail(unknownName(expr.name, scope));
      if (binding.kind === 'list')
        return { type: { t: 'entities', list: binding.list }, code: binding.code, zero: false, start: expr.start };
      return { type: binding.type, code: binding.code, zero: false, start: expr.start };
    }
    case 'member': {
      const binding = scope.resolve(expr.object);
      if (!binding) return fail(unknownName(expr.object, scope));
      if (binding.kind !== 'list') return fail(`${expr.object} is not a list, so it has no field ${expr.property}`);
      const field = scope.field(binding.list, expr.property);
      if (!field) {
        const unread = scope.whyNot?.(expr.property);
        return fail(
          unread?.includes('does not read') ? unread : `${expr.object} has no field or variable named ${expr.property}`,
        );
      }
      return {
        type: { t: 'list', of: field.type },
        code: field.listCode,
        zero: false,
        start: expr.start,
        element: { list: binding.list, read: field.read },
      };
    }
    case 'call': {
      const builtIn = Object.hasOwn(builtIns, expr.callee) ? builtIns[expr.callee] : undefined;
      if (!builtIn) return fail(`${expr.callee} is not a function of the rule language (see docs/rule-functions.md)`);
      const args: Checked[] = [];
      let failed = false;
      for (const arg of expr.args) {
        const checked = check(arg, scope, errors);
        if (checked instanceof Failed) failed = true;
        else args.push(checked);
      }
      if (failed) return new Failed(errors);
      const result = builtIn.compile(args, scope);
      if ('error' in result) return fail(`${expr.callee} ${result.error}`);
      return { type: result.type, code: result.code, zero: false, start: expr.start };
    }
    case 'unary': {
      const argument = check(expr.argument, scope, errors);
      if (argument instanceof Failed) return argument;
      if (expr.operator === '!') {
        if (argument.type.t !== 'bool') return fail(`! needs true or false, not ${typeName(argument.type)}`);
        return { type: T.bool, code: `(!${argument.code})`, zero: false, start: expr.start };
      }
      if (expr.operator === '-' && ['money', 'int', 'rate'].includes(argument.type.t)) {
        return { type: argument.type, code: `(-${argument.code})`, zero: argument.zero, start: expr.start };
      }
      return fail(`${expr.operator} cannot be used on ${typeName(argument.type)}`);
    }
    case 'binary':
      return binary(expr, scope, errors, fail);
    case 'conditional': {
      const parts = [
        check(expr.test, scope, errors),
        check(expr.then, scope, errors),
        check(expr.otherwise, scope, errors),
      ];
      if (parts.some((p) => p instanceof Failed)) return new Failed(errors);
      const [test, then, otherwise] = parts as [Checked, Checked, Checked];
      if (test.type.t !== 'bool')
        return fail(`the condition before ? must be true or false, not ${typeName(test.type)}`);
      const type = unify([then, otherwise]);
      if (!type)
        return fail(
          `both sides of : must have the same type, not ${typeName(then.type)} and ${typeName(otherwise.type)}`,
        );
      return { type, code: `(${test.code} ? ${then.code} : ${otherwise.code})`, zero: false, start: expr.start };
    }
  }
}

function binary(
  expr: Extract<Expr, { kind: 'binary' }>,
  scope: ExprScope,
  errors: ExprError[],
  fail: (message: string, offset?: number) => Failed,
): Checked | Failed {
  const left = check(expr.left, scope, errors);
  const right = check(expr.right, scope, errors);
  if (left instanceof Failed || right instanceof Failed) return new Failed(errors);
  const op = expr.operator;
  const out = (type: Type, code: string): Checked => ({ type, code, zero: false, start: expr.start });
  const mismatch = () =>
    fail(`${op} cannot combine ${typeName(left.type)} and ${typeName(right.type)}`, expr.right.start);

  if (op === '&&' || op === '||') {
    if (left.type.t !== 'bool' || right.type.t !== 'bool') return mismatch();
    return out(T.bool, `(${left.code} ${op} ${right.code})`);
  }
  if (op === '==' || op === '!=') {
    const code = `(${left.code} ${op}= ${right.code})`;
    if (left.type.t === 'enum' && right.type.t === 'string' && expr.right.kind === 'string') {
      return enumLiteral(left.type.values, expr.right.value, expr.right.start) ?? out(T.bool, code);
    }
    if (right.type.t === 'enum' && left.type.t === 'string' && expr.left.kind === 'string') {
      return enumLiteral(right.type.values, expr.left.value, expr.left.start) ?? out(T.bool, code);
    }
    if (!unify([left, right])) return mismatch();
    return out(T.bool, code);
  }
  if (op === '<' || op === '<=' || op === '>' || op === '>=') {
    const type = unify([left, right]);
    if (!type || !isOrdered(type)) return mismatch();
    return out(T.bool, `(${left.code} ${op} ${right.code})`);
  }
  if (op === '+' || op === '-') {
    const type = unify([left, right]);
    if (type && (type.t === 'money' || type.t === 'int' || type.t === 'rate' || (type.t === 'string' && op === '+'))) {
      return out(type, `(${left.code} ${op} ${right.code})`);
    }
    return mismatch();
  }
  if (op === '*') {
    const [l, r] = [left.type.t, right.type.t];
    if (l === 'int' && r === 'int') return out(T.int, `(${left.code} * ${right.code})`);
    if ((l === 'money' && r === 'int') || (l === 'int' && r === 'money'))
      return out(T.money, `(${left.code} * ${right.code})`);
    if ((l === 'int' && r === 'rate') || (l === 'rate' && r === 'int'))
      return out(T.rate, `(${left.code} * ${right.code})`);
    // UC Regs 2013 reg. 6(1): a fraction of a penny rounds to the nearest penny, a half upwards.
    if (l === 'money' && r === 'rate') return out(T.money, `mulRate(${left.code}, ${right.code})`);
    if (l === 'rate' && r === 'money') return out(T.money, `mulRate(${right.code}, ${left.code})`);
    return mismatch();
  }
  return fail(`the operator ${op} is not part of the rule language`);

  function enumLiteral(values: readonly string[], value: string, offset: number): Failed | undefined {
    if (values.includes(value)) return undefined;
    return fail(`"${value}" is never a value here: it is one of ${values.map((v) => `"${v}"`).join(', ')}`, offset);
  }
}

function unknownName(name: string, scope: ExprScope): string {
  const reason = scope.whyNot?.(name);
  if (reason) return reason;
  const known = [...scope.names()];
  const near = known.filter(
    (k) => distance(k.toLowerCase(), name.toLowerCase()) <= Math.max(2, Math.floor(name.length / 4)),
  );
  const hint = near.length > 0 ? `; did you mean ${near.slice(0, 3).join(' or ')}?` : '';
  return `${name} is not an input, parameter or variable of this rule set${hint}`;
}
