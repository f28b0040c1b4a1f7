import { Option, type Command } from 'commander';
import { backtestRelease, backtestWindow } from '../../../backtest/index.ts';
import { storedBundle } from '../../../decisions/index.ts';
import { EntitleError } from '../../../errors/index.ts';
import { ruleSetFromBundle } from '../../../rules/index.ts';
import { withDatabase } from '../../database.ts';
import { EXIT } from '../../exit.ts';
import { dataDirOption } from '../../options.ts';
import { count, progressBar, type Progress } from '../../progress.ts';
import { describeBacktest } from './describe.ts';

interface BacktestFlags {
  last?: string;
  from?: string;
  to?: string;
  workers?: string;
  json?: boolean;
  actor?: string;
  dataDir?: string;
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
      if (!actor)
        throw new EntitleError('ENTITLE_INPUT_INVALID', '--actor is required', [
          { field: '--actor', message: 'give --actor or ENTITLE_ACTOR: your name' },
        ]);
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
      process.stdout.write(
        flags.json
          ? `${JSON.stringify({ release: found.id, ...result }, null, 2)}\n`
          : describeBacktest(found, program, result),
      );
      const { unexpected, candidateError } = result.report.kinds;
      if (unexpected > 0 || candidateError > 0) {
        if (!flags.json)
          process.stderr.write(
            `the candidate differs unexpectedly on ${count(unexpected)} decisions and fails on ${count(candidateError)} the active version decides\n`,
          );
        process.exitCode = EXIT.failed;
      }
    });
}
