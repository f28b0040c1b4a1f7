/**
 * The expression tree Entitle compiles. It is built from jsep's output but is our own: only the
 * node kinds the language allows exist here, each carrying its offset in the formula text so
 * that every error can point at the token at fault.
 */
export type Expr =
  | { readonly kind: 'number'; readonly raw: string; readonly start: number }
  | { readonly kind: 'string'; readonly value: string; readonly start: number }
  | { readonly kind: 'boolean'; readonly value: boolean; readonly start: number }
  | { readonly kind: 'name'; readonly name: string; readonly start: number }
  | { readonly kind: 'member'; readonly object: string; readonly property: string; readonly start: number }
  | { readonly kind: 'call'; readonly callee: string; readonly args: readonly Expr[]; readonly start: number }
  | { readonly kind: 'unary'; readonly operator: string; readonly argument: Expr; readonly start: number }
  | { readonly kind: 'binary'; readonly operator: string; readonly left: Expr; readonly right: Expr; readonly start: number }
  | { readonly kind: 'conditional'; readonly test: Expr; readonly then: Expr; readonly otherwise: Expr; readonly start: number };

/** Every name an expression reads: plain names and the list names of projections. */
export function namesIn(expr: Expr, into: Set<string> = new Set()): Set<string> {
  switch (expr.kind) {
    case 'name':
      into.add(expr.name);
      break;
    case 'member':
      into.add(expr.object);
      break;
    case 'call':
      expr.args.forEach((arg) => namesIn(arg, into));
      break;
    case 'unary':
      namesIn(expr.argument, into);
      break;
    case 'binary':
      namesIn(expr.left, into);
      namesIn(expr.right, into);
      break;
    case 'conditional':
      namesIn(expr.test, into);
      namesIn(expr.then, into);
      namesIn(expr.otherwise, into);
      break;
    default:
      break;
  }
  return into;
}
