import { Option, type Command } from 'commander';
import { purgeCutoff } from '../../decisions/index.ts';
import { connection } from '../client.ts';
import { jsonOption, printJson } from '../output.ts';

/** `entitle decisions purge`. */
export function registerDecisions(program: Command): void {
  program
    .command('decisions')
    .description('Manage recorded decisions.')
    .command('purge')
    .description(
      'Have the service remove the personal inputs of old decisions (retention), and record the purge in the audit chain as done by you (operator). Decisions, their outcomes and the hash chain stay, and still verify.',
    )
    .option('--before <date>', 'purge decisions made before this date, YYYY-MM-DD')
    .addOption(
      new Option('--retention-days <days>', 'or: keep inputs this many days, purge older ones').env(
        'ENTITLE_RETENTION_DAYS',
      ),
    )
    .addOption(jsonOption('what was removed'))
    .action(async (options: { before?: string; retentionDays?: string; json?: boolean }) => {
      const cutoff = purgeCutoff(options);
      const { decisions: count, releaseSamples: samples } = await (
        await connection()
      ).work<{ before: string; decisions: number; releaseSamples: number }>(
        '/v1/decisions/purge',
        { before: cutoff },
        'purging',
      );
      if (options.json) return printJson({ before: cutoff, decisions: count, releaseSamples: samples });
      process.stdout.write(`removed the inputs of ${count} decision${count === 1 ? '' : 's'} made before ${cutoff}`);
      process.stdout.write(
        samples > 0 ? `, and of ${samples} release comparison sample${samples === 1 ? '' : 's'}\n` : '\n',
      );
    });
}
