/**
 * The layout as the code has it: each folder of src with an index.ts is a module; the imports
 * between modules (production code only: tests and the harnesses in src/testing are left out),
 * the cycles among them, and the lines of code in each folder's own files, tests apart. `npm run layout`
 * prints it; scripts/layout.test.ts holds the limits (no cycle, no folder over 2,000 lines).
 * Imports are read with TypeScript's own pre-processor, so comments and strings are never taken
 * for them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');
/** The most lines of production code one folder may hold, tests apart. */
export const FOLDER_LINE_LIMIT = 2_000;

export interface Layout {
  /** Every module, as a path from src: `http`, `rules/engine`. */
  readonly modules: readonly string[];
  /** For each module, the modules its production code imports. */
  readonly imports: ReadonlyMap<string, ReadonlySet<string>>;
  /** Lines of production code in each folder's own files (a sub-folder counts for itself). */
  readonly folderLines: ReadonlyMap<string, number>;
}

const isTest = (file: string) => file.endsWith('.test.ts');
const isHarness = (file: string) => relative(SRC, file).split('/')[0] === 'testing';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Reads src: its modules, the imports between them, and each folder's lines. */
export function readLayout(): Layout {
  const files = sourceFiles(SRC);
  const modules = files.filter((f) => f.endsWith('/index.ts')).map((f) => relative(SRC, dirname(f)));
  // The module a file belongs to: the nearest folder above it with an index.ts.
  const moduleOf = (file: string): string | undefined => {
    for (let dir = relative(SRC, dirname(file)); dir !== '.'; dir = dirname(dir)) {
      if (modules.includes(dir)) return dir;
    }
    return undefined;
  };
  const imports = new Map<string, Set<string>>(modules.map((m) => [m, new Set<string>()]));
  const folderLines = new Map<string, number>();
  for (const file of files) {
    if (isTest(file)) continue;
    const text = readFileSync(file, 'utf8');
    const folder = relative(SRC, dirname(file));
    folderLines.set(folder, (folderLines.get(folder) ?? 0) + text.split('\n').length - (text.endsWith('\n') ? 1 : 0));
    const from = moduleOf(file);
    // The harnesses import everything and nothing imports them but tests: no edges of the layout.
    if (from === undefined || isHarness(file)) continue;
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const to = moduleOf(resolve(dirname(file), fileName));
      // A module's own sub-modules (rules and rules/engine) are its inside, not an edge.
      if (to !== undefined && to !== from && !to.startsWith(`${from}/`) && !from.startsWith(`${to}/`))
        imports.get(from)!.add(to);
    }
  }
  return { modules, imports, folderLines };
}

/** The cycles among modules: each strongly connected group of two or more (Tarjan's algorithm). */
export function moduleCycles(layout: Layout): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (m: string): void => {
    index.set(m, next);
    low.set(m, next++);
    stack.push(m);
    onStack.add(m);
    for (const to of layout.imports.get(m) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(m, Math.min(low.get(m)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(m, Math.min(low.get(m)!, index.get(to)!));
      }
    }
    if (low.get(m) !== index.get(m)) return;
    const group: string[] = [];
    let top: string;
    do {
      top = stack.pop()!;
      onStack.delete(top);
      group.push(top);
    } while (top !== m);
    if (group.length > 1) cycles.push(group.sort());
  };
  for (const m of layout.modules) if (!index.has(m)) visit(m);
  return cycles;
}

/**
 * The top-level folders in levels: a folder's level is one more than the highest level it imports
 * (a sub-folder's imports count for its folder), so each folder imports only folders on lower
 * levels. Undefined when there is a cycle.
 */
export function folderLevels(layout: Layout): string[][] | undefined {
  if (moduleCycles(layout).length > 0) return undefined;
  const top = (module: string) => module.split('/')[0]!;
  const imports = new Map<string, Set<string>>();
  for (const [from, tos] of layout.imports) {
    if (top(from) === 'testing') continue;
    const set = imports.get(top(from)) ?? new Set<string>();
    for (const to of tos) if (top(to) !== top(from)) set.add(top(to));
    imports.set(top(from), set);
  }
  const level = new Map<string, number>();
  const levelOf = (folder: string): number => {
    const known = level.get(folder);
    if (known !== undefined) return known;
    const below = [...(imports.get(folder) ?? [])].map(levelOf);
    const value = below.length === 0 ? 0 : 1 + Math.max(...below);
    level.set(folder, value);
    return value;
  };
  const levels: string[][] = [];
  for (const folder of [...imports.keys()].sort()) (levels[levelOf(folder)] ??= []).push(folder);
  return levels;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const layout = readLayout();
  const width = Math.max(...layout.modules.map((m) => m.length));
  console.log('module imports (production code; tests and src/testing left out)');
  for (const m of [...layout.modules].sort().filter((m) => m !== 'testing'))
    console.log(`  ${m.padEnd(width)} -> ${[...layout.imports.get(m)!].sort().join(', ') || '(nothing)'}`);
  const cycles = moduleCycles(layout);
  console.log(`cycles: ${cycles.length === 0 ? 'none' : cycles.map((c) => c.join(' <-> ')).join('; ')}`);
  const levels = folderLevels(layout);
  if (levels) {
    console.log('levels, highest first (each folder imports only folders on lower levels)');
    for (let i = levels.length - 1; i >= 0; i--)
      console.log(`  ${String(i).padStart(2)}  ${(levels[i] ?? []).join(' · ')}`);
  }
  console.log(`lines of code per folder, tests apart (limit ${FOLDER_LINE_LIMIT.toLocaleString('en-GB')})`);
  for (const [folder, lines] of [...layout.folderLines].sort((a, b) => b[1] - a[1]))
    console.log(`  ${String(lines).padStart(5)}  src/${folder}`);
}
