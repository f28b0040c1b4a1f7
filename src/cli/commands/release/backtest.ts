import type { Command } from 'commander';
import { backtestWindow, type BacktestResult } from '../../../backtest/index.ts';
import { EntitleError } from '../../../errors/index.ts';
import type { RuleSetUnits } from '../../../releases/index.ts';
import { connection } from '../../client.ts';
import { EXIT } from '../../exit.ts';
import { printJson } from '../../output.ts';
import { count } from '../../progress.ts';
import { describeBacktest } from './describe.ts';

interface BacktestFlags {
  last?: string;
  from?: string;
  to?: string;
  json?: boolean;
}

export function registerBacktest(release: Command): void {
  release
    .command('backtest')
    .description(
      "Have the service re-evaluate recorded decisions under a release's rule set, compare each with the version that made it, and report what would change; progress is shown as it runs. The summary is recorded as evidence on the release, as run by you. Exits 1 if any decision differs unexpectedly or only the candidate fails.",
    )
    .argument('<release>', 'release id')
    .option('--last <n>', 'the most recent N decisions of its benefit (default: the last 100,000)')
    .option('--from <date>', 'decisions made from this UK date (or date and time)')
    .option('--to <date>', 'decisions made up to this UK date, which is included')
    .option('--json', 'print the report as JSON')
    .action(async (id: string, flags: BacktestFlags) => {
      // Checked here first, so a mistake is named by its option, not by the field of the request.
      backtestWindow(flags, { last: '--last', from: '--from', to: '--to' });
      if (flags.last !== undefined && !/^[1-9]\d{0,6}$/.test(flags.last.trim()))
        throw new EntitleError('ENTITLE_INPUT_INVALID', '--last must be a whole number of decisions', [
          { field: '--last', message: 'give a number from 1 to 1,000,000, such as 10000' },
        ]);
      const body = {
        ...(flags.last !== undefined ? { last: Number(flags.last) } : {}),
        ...(flags.from !== undefined ? { from: flags.from } : {}),
        ...(flags.to !== undefined ? { to: flags.to } : {}),
      };
      const { units, ...result } = await (
        await connection()
      ).work<BacktestResult & { release: string; units: RuleSetUnits }>(
        `/v1/releases/${encodeURIComponent(id.trim())}/backtest`,
        body,
        'comparing',
      );
      if (flags.json) printJson(result);
      else process.stdout.write(describeBacktest({ id: result.release }, units, result));
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
