import { Option, type Command } from 'commander';
import { backtestRelease, backtestWindow, type BacktestExample, type BacktestResult } from '../../backtest/index.ts';
import { storedBundle } from '../../decisions/index.ts';
import { EntitleError } from '../../errors/index.ts';
import type { Release } from '../../releases/index.ts';
import { formatIsoDate, formatMoney, formatRate, ruleSetFromBundle, type RuleProgram } from '../../rules/index.ts';
import { formatLondon } from '../../uk-time/index.ts';
import { withDatabase } from '../database.ts';
import { EXIT } from '../exit.ts';
import { dataDirOption } from '../options.ts';
import { count, progressBar, type Progress } from '../progress.ts';

interface BacktestFlags {
  last?: string;
  from?: string;
  to?: string;
  workers?: string;
  json?: boolean;
  actor?: string;
  dataDir?: string;
}

/** A variable's value as people read it: money in pounds, rates as percentages, dates as dates. */
export function valueText(program: RuleProgram, variable: string, value: unknown): string {
  const type = variable === 'outcome.amount' ? 'money' : program.variables.find((v) => v.name === variable)?.type.t;
  if (typeof value === 'number' && type === 'money') return formatMoney(value);
  if (typeof value === 'number' && type === 'rate') return formatRate(value);
  if (typeof value === 'number' && type === 'date') return formatIsoDate(value);
  return JSON.stringify(value);
}

function windowText(result: BacktestResult): string {
  const w = result.report.window;
  if (w.last !== undefined) return `the most recent ${count(w.last)} decisions`;
  if (w.from !== undefined && w.to !== undefined) return `decisions made from ${formatLondon(w.from)} to before ${formatLondon(w.to)}`;
  return 'every decision';
}

function exampleLine(program: RuleProgram, e: BacktestExample): string {
  const awards =
    e.activeError || e.candidateError
      ? `${e.activeError ?? (e.activeAwardPence !== undefined ? formatMoney(e.activeAwardPence) : '')} -> ${e.candidateError ?? (e.candidateAwardPence !== undefined ? formatMoney(e.candidateAwardPence) : '')}`
      : `${formatMoney(e.activeAwardPence!)} -> ${formatMoney(e.candidateAwardPence!)}`;
  const differences = e.differences
    .slice(0, 3)
    .map((d) => `${d.variable}${d.index !== undefined ? `[${d.index}]` : ''} ${valueText(program, d.variable, d.active)} -> ${valueText(program, d.variable, d.candidate)} (${d.cause})`);
  const more = e.differenceCount > differences.length ? `, and ${e.differenceCount - differences.length} more` : '';
  return `      ${e.decisionId}  ${e.applicationId}  ${awards}${differences.length > 0 ? `: ${differences.join(', ')}${more}` : ''}`;
}

/** The report in plain lines, for people. */
export function describeBacktest(release: Release, program: RuleProgram, result: BacktestResult): string {
  const r = result.report;
  const per = program.period === 'week' ? 'a week' : program.period === 'year' ? 'a year' : 'a month';
  const a = r.awards;
  const lines = [
    `backtest of release ${release.id}: ${r.candidate.id} ${r.candidate.hash}`,
    `  decisions    ${count(r.decisions)} of ${r.benefit}: ${windowText(result)}`,
    `  compared     ${count(r.compared)}, each with ${r.baseline === 'recorded' ? 'the version that made it' : r.baseline}${r.skipped > 0 ? `; ${count(r.skipped)} skipped: their inputs were removed under the retention policy` : ''}`,
    `  identical    ${count(r.kinds.identical)}`,
    `  expected     ${count(r.kinds.expected)}`,
    `  unexpected   ${count(r.kinds.unexpected)}`,
    `  errors       candidate only ${count(r.kinds.candidateError)}, active only ${count(r.kinds.activeError)}, both ${count(r.kinds.bothError)}`,
    `  awards       ${count(a.gaining)} gain, ${count(a.losing)} lose, ${count(a.unchanged)} unchanged; total change ${formatMoney(a.totalChangePence)} ${per}`,
    ...(a.gaining + a.losing > 0
      ? [`               median change ${formatMoney(a.medianChangePence)}${a.gaining > 0 ? `; median gain ${formatMoney(a.medianGainPence)}` : ''}${a.losing > 0 ? `; median loss ${formatMoney(a.medianLossPence)}` : ''}`]
      : []),
    `  by size      ${'gain'.padStart(10)} ${'loss'.padStart(10)}`,
    ...a.bands.map((b) => `    ${b.label.padEnd(20)} ${count(b.gaining).padStart(10)} ${count(b.losing).padStart(10)}`),
    `  versions     ${r.versions.map((v) => `${v.hash} (${count(v.decisions)})`).join(', ') || 'none'}`,
  ];
  if (r.variables.length > 0) {
    lines.push('  differ most  variable: decisions (of which unexpected)');
    for (const v of r.variables) lines.push(`    ${v.variable.padEnd(32)} ${count(v.decisions).padStart(10)} (${count(v.unexpected)})`);
  }
  const kinds = Object.entries(r.examples).filter(([, list]) => list.length > 0);
  if (kinds.length > 0) {
    lines.push('  examples     decision, application, award before -> after: differences');
    for (const [kind, list] of kinds) {
      lines.push(`    ${kind}`);
      for (const e of list) lines.push(exampleLine(program, e));
    }
  }
  lines.push(`  took         ${result.seconds.toFixed(1)} s with ${result.workers} worker${result.workers === 1 ? '' : 's'} (${count(Math.round(r.decisions / Math.max(result.seconds, 0.001)))} decisions/s)`);
  return `${lines.join('\n')}\n`;
}

export function registerBacktest(release: Command): void {
  release
    .command('backtest')
    .description(
      "Re-evaluate recorded decisions under a release's rule set, compare each with the version that made it, and report what would change. The summary is recorded as evidence on the release. Exits 1 if any decision differs unexpectedly or only the candidate fails.",
    )
    .argument('<release>', 'release id')
    .option('--last <n>', 'the most recent N decisions of its benefit')
    .option('--from <date>', 'decisions made from this UK date (or date and time)')
    .option('--to <date>', 'decisions made up to this UK date, which is included')
    .option('--workers <n>', 'worker threads comparing (default: the cores available)')
    .option('--json', 'print the report as JSON')
    .addOption(new Option('--actor <name>', 'who ran it: recorded with the evidence').env('ENTITLE_ACTOR'))
    .addOption(dataDirOption())
    .action(async (id: string, flags: BacktestFlags) => {
      const actor = flags.actor?.trim();
      if (!actor) throw new EntitleError('ENTITLE_INPUT_INVALID', '--actor is required', [{ field: '--actor', message: 'give --actor or ENTITLE_ACTOR: your name' }]);
      const window = backtestWindow(flags, { last: '--last', from: '--from', to: '--to' });
      const { found, program, result } = await withDatabase(flags, async (db) => {
        let bar: Progress | undefined;
        const { release: found, result } = await backtestRelease(db, id, actor, {
          ...(window ? { window } : {}),
          ...(flags.workers !== undefined ? { workers: Number(flags.workers) } : {}),
          onProgress: ({ done, total }) => {
            bar ??= progressBar('comparing', total);
            bar.update(done);
          },
        });
        bar?.finish();
        return { found, program: ruleSetFromBundle(await storedBundle(db, found.rulesetHash)).program, result };
      });
      process.stdout.write(flags.json ? `${JSON.stringify({ release: found.id, ...result }, null, 2)}\n` : describeBacktest(found, program, result));
      const { unexpected, candidateError } = result.report.kinds;
      if (unexpected > 0 || candidateError > 0) {
        if (!flags.json) process.stderr.write(`the candidate differs unexpectedly on ${count(unexpected)} decisions and fails on ${count(candidateError)} the active version decides\n`);
        process.exitCode = EXIT.failed;
      }
    });
}
