import type { Problem } from '../../errors/index.ts';
import { compileExpression, parseExpression, typeName, type Type } from '../expr/index.ts';
import type { Locator, ReasonSpec } from '../format/index.ts';
import { makeScope, substituteParameters, type SymbolTable } from './scope.ts';

/** One piece of a reason's text: literal words, or an expression at an offset of the text. */
type Piece = { readonly text: string } | { readonly expr: string; readonly offset: number };

/** Splits "Standard allowance {standardAllowance}: ..." into literal text and expressions. */
export function splitTemplate(text: string): Piece[] | { offset: number; message: string } {
  const pieces: Piece[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('{', at);
    if (open < 0) {
      pieces.push({ text: text.slice(at) });
      break;
    }
    if (open > at) pieces.push({ text: text.slice(at, open) });
    const close = text.indexOf('}', open);
    if (close < 0) return { offset: open, message: 'this { has no closing }' };
    pieces.push({ expr: text.slice(open + 1, close), offset: open + 1 });
    at = close + 1;
  }
  return pieces;
}

function format(type: Type, code: string): string {
  switch (type.t) {
    case 'money':
      return `fmtMoney(${code})`;
    case 'date':
      return `fmtDate(${code})`;
    case 'rate':
      return `fmtRate(${code})`;
    case 'bool':
      return `(${code} ? "yes" : "no")`;
    default:
      return `String(${code})`;
  }
}

/**
 * Compiles the `reasons` section into code that appends each plain-English reason whose
 * condition holds. Reasons read the values the evaluation produced; they never recompute them.
 */
export function compileReasons(
  reasons: readonly ReasonSpec[],
  symbols: SymbolTable,
  helpers: Map<string, string>,
  locate: Locator,
  problems: Problem[],
): string {
  const blocks: string[] = [];
  reasons.forEach((reason, index) => {
    const path = ['reasons', index];
    if (reason.for !== undefined && !symbols.inputs.lists.has(reason.for)) {
      problems.push(locate.at([...path, 'for'], `${reason.for} is not an input list`));
      return;
    }
    const scope = makeScope(symbols, { mode: 'values', ...(reason.for ? { list: reason.for } : {}) }, helpers);
    const compile = (
      text: string,
      field: string,
      offset: number,
    ): { type: Type; code: string; readsParameters: boolean } | undefined => {
      const parsed = parseExpression(text);
      if (!parsed.ok) {
        problems.push(locate.inside([...path, field], offset + parsed.error.offset, parsed.error.message));
        return undefined;
      }
      const compiled = compileExpression(parsed.expr, scope);
      if (!compiled.ok) {
        for (const error of compiled.errors)
          problems.push(locate.inside([...path, field], offset + error.offset, error.message));
        return undefined;
      }
      const code = substituteParameters(compiled.code, (k) => `(P[${k}] ?? U(${k}))`);
      return { type: compiled.type, code, readsParameters: code !== compiled.code };
    };
    const when =
      reason.when === undefined
        ? { type: { t: 'bool' } as Type, code: 'true', readsParameters: false }
        : compile(reason.when, 'when', 0);
    if (when && when.type.t !== 'bool')
      problems.push(locate.at([...path, 'when'], `when must be true or false, not ${typeName(when.type)}`));
    // A reason must never change whether a decision is made: its condition reads only what the
    // evaluation already worked out, and a rate in its text that is unconfirmed is said so.
    if (when?.readsParameters)
      problems.push(
        locate.at([...path, 'when'], "a reason's condition cannot read a parameter: use a variable worked out from it"),
      );
    const pieces = splitTemplate(reason.text);
    if (!Array.isArray(pieces)) {
      problems.push(locate.inside([...path, 'text'], pieces.offset, pieces.message));
      return;
    }
    const parts = pieces.map((piece) => {
      if ('text' in piece) return JSON.stringify(piece.text);
      const compiled = compile(piece.expr, 'text', piece.offset);
      if (!compiled) return undefined;
      const text = format(compiled.type, compiled.code);
      return compiled.readsParameters ? `unlessUnconfirmed(() => ${text})` : text;
    });
    if (!when || parts.some((p) => p === undefined)) return;
    const push = `if (${when.code}) out.push(${parts.join(' + ') || '""'});`;
    blocks.push(reason.for ? `for (let i = 0; i < I.${reason.for}.length; i++) { ${push} }` : push);
  });
  return blocks.join('\n');
}
