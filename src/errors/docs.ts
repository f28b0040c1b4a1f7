import { errorRegistry } from './registry.ts';

/** docs/errors.md, generated from the registry so the two cannot drift. */
export function renderErrorDocs(): string {
  const rows = Object.entries(errorRegistry).map(
    ([code, e]) => `| \`${code}\` | ${e.status} | ${e.title} | ${e.action} |`,
  );
  return [
    '# Error codes',
    '',
    '<!-- Generated from src/errors/registry.ts by `npm run docs`; a test fails if this file drifts. -->',
    '',
    'Every error Entitle reports on purpose carries one of these codes. Codes are stable and never',
    'reused. Error messages never contain the values that were sent, so they are safe to log.',
    '',
    '| code | HTTP status | title | what to do |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
