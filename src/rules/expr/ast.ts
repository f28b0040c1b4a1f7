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
  | {
      readonly kind: 'binary';
      readonly operator: string;
      readonly left: Expr;
      readonly right: Expr;
      readonly start: number;
    }
  | {
      readonly kind: 'conditional';
      readonly test: Expr;
      readonly then: Expr;
      readonly otherwise: Expr;
      readonly start: number;
    };
