import { builtIns } from './functions.ts';

/** docs/rule-functions.md, generated from the built-in function table. */
export function renderFunctionDocs(): string {
  return [
    '# Built-in functions of the rule language',
    '',
    '<!-- Generated from src/rules/expr/functions.ts by `npm run docs`; a test fails if this file drifts. -->',
    '',
    '| usage | what it gives |',
    '|---|---|',
    ...Object.values(builtIns).map((f) => `| \`${f.usage}\` | ${f.summary} |`),
    '',
  ].join('\n');
}
