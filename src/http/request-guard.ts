import type { FastifyRequest } from 'fastify';
import { parse as parseJsonTree, type AnyNode } from '@humanwhocodes/momoa';
import { EntitleError, type Problem } from '../errors/index.ts';

/**
 * What every request is checked for before any route sees it: JSON bodies without duplicate keys
 * and no deeper than MAX_DEPTH, and no text (in the body, the query or the path) holding a NUL
 * or half of a surrogate pair, which PostgreSQL cannot store and no person types. A refusal names
 * the field and never repeats the value.
 */

/** Deeper than any request the API takes (a household is four levels); bounds every recursion after it. */
export const MAX_DEPTH = 32;

/** A field path as the API's errors write it: `household.children[0].dateOfBirth`. */
function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  // A key is the caller's text: named only when it looks like a field name.
  const name = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(key) ? key : '(a field with an unusual name)';
  return path ? `${path}.${name}` : name;
}

function invalid(problems: Problem[]): EntitleError {
  return new EntitleError('ENTITLE_REQUEST_INVALID', 'the request is not valid', problems);
}

// eslint-disable-next-line no-control-regex -- finding NUL is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether text can be stored and shown: no NUL, no lone surrogate. */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}

const TEXT_MESSAGE = 'remove the NUL character or the broken character (half of a surrogate pair) from this text';

/**
 * Refuses a value whose text (keys included) cannot be stored, or which nests deeper than
 * MAX_DEPTH, naming the first field at fault under `root`. Iterative, so no input can exhaust
 * the stack. Returns how many keys its objects hold.
 */
export function checkValue(value: unknown, root: string): number {
  let keys = 0;
  const stack: [unknown, string, number][] = [[value, root, 0]];
  while (stack.length > 0) {
    const [item, path, depth] = stack.pop()!;
    if (typeof item === 'string') {
      if (!isStorableText(item)) throw invalid([{ field: path || 'request', message: TEXT_MESSAGE }]);
      continue;
    }
    if (item === null || typeof item !== 'object') continue;
    if (depth >= MAX_DEPTH)
      throw invalid([
        { field: path || 'request', message: `nest objects and lists no more than ${MAX_DEPTH} levels deep` },
      ]);
    if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push([item[i], join(path, i), depth + 1]);
      continue;
    }
    for (const key of Object.keys(item)) {
      keys += 1;
      if (!isStorableText(key)) throw invalid([{ field: join(path, '(a field name)'), message: TEXT_MESSAGE }]);
      // Harmless as data, but code that merges objects could read it as a prototype.
      if (key === '__proto__')
        throw invalid([{ field: path || 'request', message: 'remove the field named __proto__' }]);
      stack.push([(item as Record<string, unknown>)[key], join(path, key), depth + 1]);
    }
  }
  return keys;
}

/** The first key given twice in one object, as a field path, walking the parsed tree. */
function duplicateKey(node: AnyNode, path: string): string | undefined {
  if (node.type === 'Document') return duplicateKey(node.body, path);
  if (node.type === 'Array') {
    for (let i = 0; i < node.elements.length; i++) {
      const found = duplicateKey(node.elements[i]!.value, join(path, i));
      if (found) return found;
    }
    return undefined;
  }
  if (node.type !== 'Object') return undefined;
  const seen = new Set<string>();
  for (const member of node.members) {
    const key = member.name.type === 'String' ? member.name.value : member.name.name;
    if (seen.has(key)) return join(path, key);
    seen.add(key);
    const found = duplicateKey(member.value, join(path, key));
    if (found) return found;
  }
  return undefined;
}

/** How many times a double quote is followed, after any spaces, by a colon. */
function quotesBeforeColons(text: string): number {
  let count = 0;
  for (let at = text.indexOf('"'); at >= 0; at = text.indexOf('"', at + 1)) {
    let next = at + 1;
    while (
      next < text.length &&
      (text[next] === ' ' || text[next] === '\n' || text[next] === '\r' || text[next] === '\t')
    )
      next++;
    if (text[next] === ':') count++;
  }
  return count;
}

/**
 * The JSON body parser: JSON.parse for the value (it is fast and not recursive), then the checks
 * above, then, only when the text could hold a key given twice (which JSON.parse silently
 * resolves to the last), a second parse into a syntax tree (momoa) to find it. The tree is parsed
 * after the depth check, so its recursion is bounded.
 */
export function parseJsonBody(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EntitleError('ENTITLE_REQUEST_INVALID', 'the request body is not valid JSON', [
      { field: 'body', message: 'send the body as valid JSON with Content-Type: application/json' },
    ]);
  }
  const keys = checkValue(value, '');
  // Every key in the text is a closing quote, maybe spaces, then a colon; so is little else (an
  // escaped quote before a colon inside a string). When there are no more of those than keys
  // parsed, no key was given twice, and the slower tree parse is not needed.
  if (keys > 0 && quotesBeforeColons(text) > keys) {
    let tree;
    try {
      tree = parseJsonTree(text, { mode: 'json' });
    } catch {
      throw new EntitleError('ENTITLE_REQUEST_INVALID', 'the request body is not valid JSON', [
        { field: 'body', message: 'send the body as valid JSON with Content-Type: application/json' },
      ]);
    }
    const duplicate = duplicateKey(tree, '');
    if (duplicate) throw invalid([{ field: duplicate, message: 'this field is given more than once: give it once' }]);
  }
  return value;
}

/**
 * A route's `preValidation` for a body that is optional (every field has a default): a request
 * with no body at all is validated, and handled, as an empty object.
 */
export function noBodyIsEmpty(request: FastifyRequest, _reply: unknown, done: () => void): void {
  request.body ??= {};
  done();
}
