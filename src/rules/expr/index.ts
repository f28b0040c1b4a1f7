export type { Expr } from './ast.ts';
export { parseExpression, type ParseResult } from './parse.ts';
export {
  compileExpression,
  type CompiledExpr,
  type ExprScope,
  type ExprError,
  type NameBinding,
  type ListField,
} from './compile-expr.ts';
export { builtIns } from './functions.ts';
export { T, typeName, sameType, type Type, type ScalarTypeName } from './types.ts';
export { renderFunctionDocs } from './docs.ts';
