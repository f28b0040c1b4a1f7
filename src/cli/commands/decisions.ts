import { Option, type Command } from 'commander';
import { purgeInputs } from '../../decisions/index.ts';
import { EntitleError } from '../../errors/index.ts';
import { purgeSampleInputs } from '../../releases/index.ts';
import { parseIsoDate } from '../../rules/index.ts';
import { withDatabase } from '../database.ts';
import { dataDirOption } from '../options.ts';
import { jsonOption, printJson } from '../output.ts';

/** `entitle decisions purge`. */
export function registerDecisions(program: Command): void {
  program
    .command('decisions')
    .description('Manage recorded decisions.')
    .command('purge')
    .description(
      'Remove the personal inputs of old decisions (retention). Decisions, their outcomes and the hash chain stay, and still verify.',
    )
    .option('--before <date>', 'purge decisions made before this date, YYYY-MM-DD')
    .addOption(
      new Option('--retention-days <days>', 'or: keep inputs this many days, purge older ones').env(
        'ENTITLE_RETENTION_DAYS',
      ),
    )
    .addOption(dataDirOption())
    .addOption(jsonOption('what was removed'))
    .action(async (options: { before?: string; retentionDays?: string; dataDir?: string; json?: boolean }) => {
      const cutoff = purgeCutoff(options);
      const [count, samples] = await withDatabase(options, async (db) => [
        await purgeInputs(db, cutoff),
        await purgeSampleInputs(db, cutoff),
      ]);
      if (options.json) return printJson({ before: cutoff, decisions: count, releaseSamples: samples });
      process.stdout.write(`removed the inputs of ${count} decision${count === 1 ? '' : 's'} made before ${cutoff}`);
      process.stdout.write(
        samples > 0 ? `, and of ${samples} release comparison sample${samples === 1 ? '' : 's'}\n` : '\n',
      );
    });
}

/** The moment before which inputs are purged: a date given, or now less the retention period. */
export function purgeCutoff(
  options: { before?: string | undefined; retentionDays?: string | undefined },
  now = new Date(),
): string {
  if (options.before !== undefined) {
    if (parseIsoDate(options.before) === undefined) {
      throw new EntitleError('ENTITLE_INPUT_INVALID', '--before must be a date', [
        { field: '--before', message: 'enter a date such as 2019-04-06' },
      ]);
    }
    return `${options.before}T00:00:00.000Z`;
  }
  const days = Number(options.retentionDays);
  if (options.retentionDays === undefined || !Number.isInteger(days) || days < 1) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'say which decisions to purge', [
      {
        field: '--before',
        message:
          'give --before YYYY-MM-DD, or --retention-days N (or ENTITLE_RETENTION_DAYS) with N a whole number of days, 1 or more',
      },
    ]);
  }
  return new Date(now.getTime() - days * 86_400_000).toISOString();
}
