import type { Command } from 'commander';
import { EXIT } from './exit.ts';
import { buildProgram } from './tree.ts';

function helpOf(command: Command, path: string[]): string[] {
  const name = [...path, command.name()].join(' ');
  const blocks = [`## \`${name}\``, '', '```text', command.helpInformation().trimEnd(), '```', ''];
  for (const sub of command.commands) blocks.push(...helpOf(sub, [...path, command.name()]));
  return blocks;
}

/** docs/cli.md: every command's help and the exit statuses, generated from the code. */
export function renderCliDocs(): string {
  const program = buildProgram();
  program.configureHelp({ helpWidth: 100 });
  for (const sub of program.commands) sub.configureHelp({ helpWidth: 100 });
  return [
    '# The `entitle` command',
    '',
    '<!-- Generated from src/cli by `npm run docs`; a test fails if this file drifts. -->',
    '',
    '## Exit statuses',
    '',
    '| status | meaning |',
    '|---|---|',
    `| ${EXIT.ok} | success |`,
    `| ${EXIT.failed} | a fault; golden tests that failed; a release rejected on creation; a backtest that found unexpected differences or candidate-only errors |`,
    `| ${EXIT.invalidInput} | the input or the command line is wrong: every field at fault is listed |`,
    `| ${EXIT.cannotAssess} | the input is valid but a rate it needs is unconfirmed or has no value on the date |`,
    `| ${EXIT.invalidRules} | a rule set or golden test file is not valid: every problem is listed as file:line:column |`,
    `| ${EXIT.unavailable} | the database cannot be used: another process holds the embedded one, or it cannot be reached |`,
    '',
    ...helpOf(program, []),
  ].join('\n');
}
