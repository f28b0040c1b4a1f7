import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, Scalar } from 'yaml';
import type { Problem } from '../../errors/index.ts';

export type Path = readonly (string | number)[];

/** Finds where a value stands in its source file, so every problem can name a line and column. */
export interface Locator {
  /** Position of the value at `path`, or of its nearest existing ancestor. */
  at(path: Path, message: string): Problem;
  /** Position `offset` characters into the string value at `path` (for formula errors). */
  inside(path: Path, offset: number, message: string): Problem;
}

export interface YamlSource {
  readonly data: unknown;
  readonly problems: readonly Problem[];
  readonly locator: Locator;
}

/** Parses YAML keeping each node's position. Syntax errors become located problems. */
export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const pos = (offset: number) => lineCounter.linePos(offset);
  const problems: Problem[] = doc.errors.map((error) => {
    const { line, col } = pos(error.pos[0]);
    const message =
      error.code === 'DUPLICATE_KEY'
        ? 'this key appears twice in the same place: keep one'
        : `the YAML cannot be read: ${error.message.split('\n')[0]}`;
    return { file, line, column: col, message };
  });

  const nodeAt = (path: Path): Node | undefined => {
    let node: unknown = doc.contents;
    let found: Node | undefined = doc.contents ?? undefined;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(key));
        node = pair?.value ?? pair?.key;
      } else if (isSeq(node) && typeof key === 'number') {
        node = node.items[key];
      } else {
        break;
      }
      if (!node || typeof node !== 'object' || !('range' in node)) break;
      found = node as Node;
    }
    return found;
  };

  const locator: Locator = {
    at(path, message) {
      const node = nodeAt(path);
      const { line, col } = pos(node?.range?.[0] ?? 0);
      return { file, line, column: col, message };
    },
    inside(path, offset, message) {
      const node = nodeAt(path);
      if (!node?.range) return locator.at(path, message);
      return { file, ...scalarPosition(text, node, offset, pos), message };
    },
  };
  // A duplicate key leaves a readable document (the last value counts), so the rest of the file
  // is still checked and every problem is reported at once; a syntax error does not.
  const readable = doc.errors.every((error) => error.code === 'DUPLICATE_KEY');
  return { data: readable ? doc.toJS() : undefined, problems, locator };
}

/**
 * Maps an offset in a scalar's value back to a line and column of the file. Plain and quoted
 * scalars on one line shift by their opening quote; block scalars (`|`) are matched line by line
 * against the source, since YAML strips their indentation.
 */
function scalarPosition(
  text: string,
  node: Node,
  offset: number,
  pos: (offset: number) => { line: number; col: number },
): { line: number; column: number } {
  const start = node.range![0];
  if (!isScalar(node) || typeof node.value !== 'string') {
    const { line, col } = pos(start);
    return { line, column: col };
  }
  const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE ? 1 : 0;
  if (node.type !== Scalar.BLOCK_LITERAL && node.type !== Scalar.BLOCK_FOLDED && !node.value.includes('\n')) {
    const { line, col } = pos(start + quoted + offset);
    return { line, column: col };
  }
  const before = node.value.slice(0, offset);
  const valueLine = before.split('\n').length - 1;
  const columnInLine = offset - (before.lastIndexOf('\n') + 1);
  const headerLine = pos(start).line;
  const blockLines = node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED ? 1 : 0;
  const line = headerLine + blockLines + valueLine;
  const sourceLine = text.split('\n')[line - 1] ?? '';
  const indent = sourceLine.length - sourceLine.trimStart().length;
  return { line, column: indent + columnInLine + 1 };
}
