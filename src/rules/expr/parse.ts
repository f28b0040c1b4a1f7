import jsep from 'jsep';
import type { Expr } from './ast.ts';

// The language is small on purpose: no bitwise, modulo or exponent operators, no arrays, no
// `this`. Removing them from jsep makes their misuse a parse error rather than a type error.
for (const op of ['|', '^', '&', '<<', '>>', '>>>', '%', '/', '**', '===', '!==', '??']) jsep.removeBinaryOp(op);
for (const op of ['~', '+']) jsep.removeUnaryOp(op);
jsep.removeLiteral('null');
jsep.removeLiteral('this');

export interface ParseFailure {
  readonly offset: number;
  readonly message: string;
}

export type ParseResult =
  { readonly ok: true; readonly expr: Expr } | { readonly ok: false; readonly error: ParseFailure };

type JsepNode = jsep.Expression;

// jsep types every node field loosely; these read the fields each node kind always has.
const nameOf = (node: JsepNode): string => node.name as string;
const operatorOf = (node: JsepNode): string => node.operator as string;

/**
 * Parses formula text with jsep and converts the tree to Entitle's own. jsep reports no node
 * positions, so leaves are located afterwards by scanning the text in source order: the tree is
 * walked left to right, and each leaf's raw text is found at or after the previous leaf.
 */
export function parseExpression(text: string): ParseResult {
  let tree: JsepNode;
  try {
    tree = jsep(text);
  } catch (error) {
    const failure = error as { index?: number; description?: string; message: string };
    return {
      ok: false,
      error: { offset: failure.index ?? 0, message: plainParseMessage(failure.description ?? failure.message) },
    };
  }
  let cursor = 0;
  const find = (raw: string): number => {
    const at = text.indexOf(raw, cursor);
    if (at < 0) return cursor;
    cursor = at + raw.length;
    return at;
  };
  const convert = (node: JsepNode): Expr | ParseFailure => {
    switch (node.type) {
      case 'Literal': {
        const raw = node.raw as string;
        const start = find(raw);
        if (typeof node.value === 'number') return { kind: 'number', raw, start };
        if (typeof node.value === 'string') return { kind: 'string', value: node.value, start };
        if (typeof node.value === 'boolean') return { kind: 'boolean', value: node.value, start };
        return { offset: start, message: `"${raw}" is not a value this language knows` };
      }
      case 'Identifier':
        return { kind: 'name', name: nameOf(node), start: find(nameOf(node)) };
      case 'MemberExpression': {
        const object = node.object as JsepNode;
        const property = node.property as JsepNode;
        if (node.computed || object.type !== 'Identifier' || property.type !== 'Identifier') {
          return {
            offset: cursor,
            message: 'only a list name followed by one field is allowed here, such as children.childElement',
          };
        }
        const start = find(nameOf(object));
        find(nameOf(property));
        return { kind: 'member', object: nameOf(object), property: nameOf(property), start };
      }
      case 'CallExpression': {
        const callee = node.callee as JsepNode;
        if (callee.type !== 'Identifier')
          return { offset: cursor, message: 'only a named function can be called, such as max(a, b)' };
        const start = find(nameOf(callee));
        const args: Expr[] = [];
        for (const arg of node.arguments as JsepNode[]) {
          const converted = convert(arg);
          if ('message' in converted) return converted;
          args.push(converted);
        }
        return { kind: 'call', callee: nameOf(callee), args, start };
      }
      case 'UnaryExpression': {
        const start = find(operatorOf(node));
        const argument = convert(node.argument as JsepNode);
        if ('message' in argument) return argument;
        return { kind: 'unary', operator: operatorOf(node), argument, start };
      }
      case 'BinaryExpression': {
        const left = convert(node.left as JsepNode);
        if ('message' in left) return left;
        const right = convert(node.right as JsepNode);
        if ('message' in right) return right;
        return { kind: 'binary', operator: operatorOf(node), left, right, start: left.start };
      }
      case 'ConditionalExpression': {
        const test = convert(node.test as JsepNode);
        if ('message' in test) return test;
        const then = convert(node.consequent as JsepNode);
        if ('message' in then) return then;
        const otherwise = convert(node.alternate as JsepNode);
        if ('message' in otherwise) return otherwise;
        return { kind: 'conditional', test, then, otherwise, start: test.start };
      }
      case 'Compound':
        return { offset: cursor, message: 'a formula is one expression: join conditions with && or ||' };
      default:
        return { offset: cursor, message: `this kind of expression (${node.type}) is not part of the rule language` };
    }
  };
  const result = convert(tree);
  return 'message' in result ? { ok: false, error: result } : { ok: true, expr: result };
}

function plainParseMessage(description: string): string {
  if (/Unexpected "\/"|Unexpected "%"/.test(description)) {
    return 'division is not allowed: use ceilDiv(a, b) or floorDiv(a, b) to say how to round';
  }
  return `the formula cannot be read: ${description}`;
}
