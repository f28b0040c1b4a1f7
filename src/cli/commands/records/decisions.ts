import { Option, type Command } from 'commander';
import { purgeCutoff } from '../../../decisions/index.ts';
import { EntitleError } from '../../../errors/index.ts';
import { defaultReplaySince, ReplayRuleSets, replaySample, type ReplaySampleReport } from '../../../replay/index.ts';
import { ENGINE, parseIsoDate } from '../../../rules/index.ts';
import { connection } from '../../client.ts';
import { withDatabase } from '../../database.ts';
import { dataDirOption } from '../../options.ts';
import { EXIT } from '../../exit.ts';
import { jsonOption, printJson } from '../../output.ts';

/** `entitle decisions purge` and `entitle replay`. */
export function registerDecisions(program: Command): void {
  program
    .command('replay')
    .description(
      'Have the service replay a stratified sample of recorded decisions (every benefit, rule-set version and outcome) with the build it runs, and list any it makes differently. Run against a new image before it serves anyone: the same rules giving another answer means the engine changed. Recorded in the audit chain. Exits 1 if any decision differs.',
    )
    .option('--sample <n>', 'about how many decisions to replay, at least one of each stratum', '1000')
    .option('--since <date>', 'only decisions recorded on or after this date, YYYY-MM-DD (default: 30 days ago)')
    .option(
      '--local',
      'replay with this build on the database itself (DATABASE_URL or --data-dir), not through the service: how the pipeline checks a new image before the canary',
    )
    .addOption(dataDirOption())
    .addOption(jsonOption('the check: strata, counts and every decision that differs'))
    .action(async (options: { sample: string; since?: string; json?: boolean; local?: boolean; dataDir?: string }) => {
      if (!/^[1-9]\d{0,5}$/.test(options.sample.trim()) || Number(options.sample) > 100_000)
        throw new EntitleError('ENTITLE_INPUT_INVALID', '--sample must be a whole number of decisions', [
          { field: '--sample', message: 'give a number from 1 to 100,000, such as 1000' },
        ]);
      if (options.since !== undefined && parseIsoDate(options.since) === undefined)
        throw new EntitleError('ENTITLE_INPUT_INVALID', '--since is not a date', [
          { field: '--since', message: 'give a date such as 2026-11-01' },
        ]);
      const check: ReplaySampleReport = options.local
        ? await withDatabase(options, (db) =>
            replaySample(db, new ReplayRuleSets(db, new Map()), {
              sample: Number(options.sample),
              since: options.since ?? defaultReplaySince(),
              actor: `replay check (${ENGINE.name} ${ENGINE.version}, this build)`,
            }),
          )
        : await (
            await connection()
          ).work<ReplaySampleReport>(
            '/v1/replays',
            { sample: Number(options.sample), ...(options.since ? { since: options.since } : {}) },
            'replaying',
          );
      if (options.json) printJson(check);
      else {
        process.stdout.write(
          `replayed ${check.sampled} recorded decisions since ${check.since} with ${check.engine.name} ${check.engine.version}, from ${check.strata.length} strata (benefit, rule-set version, outcome): ${check.matched} the same, ${check.mismatched.length} different\n`,
        );
        for (const m of check.mismatched)
          process.stdout.write(`  ${m.decisionId} ${m.benefit} ${m.ruleset.slice(0, 19)}: ${m.paths.join(', ')}\n`);
      }
      if (check.mismatched.length > 0) {
        if (!options.json)
          process.stderr.write(
            'this build makes recorded decisions differently with the same rules: do not deploy it (docs/deploying.md)\n',
          );
        process.exitCode = EXIT.failed;
      }
    });

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
      const {
        decisions: count,
        releaseSamples: samples,
        assessmentFailures: failures,
      } = await (
        await connection()
      ).work<{ before: string; decisions: number; releaseSamples: number; assessmentFailures: number }>(
        '/v1/decisions/purge',
        { before: cutoff },
        'purging',
      );
      if (options.json)
        return printJson({ before: cutoff, decisions: count, releaseSamples: samples, assessmentFailures: failures });
      process.stdout.write(`removed the inputs of ${count} decision${count === 1 ? '' : 's'} made before ${cutoff}`);
      process.stdout.write(
        samples > 0 ? `, and of ${samples} release comparison sample${samples === 1 ? '' : 's'}` : '',
      );
      process.stdout.write(
        failures > 0 ? `; removed ${failures} failed assessment record${failures === 1 ? '' : 's'}\n` : '\n',
      );
    });
}
