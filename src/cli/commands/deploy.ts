import { Option, type Command } from 'commander';
import { checkDeployWindow, deployHistory, recordDeploy, STRATEGIES } from '../../deploys/index.ts';
import { ENVIRONMENTS } from '../../environments/index.ts';
import { EntitleError } from '../../errors/index.ts';
import { formatLondon, londonToInstant } from '../../uk-time/index.ts';
import { withDatabase } from '../database.ts';
import { EXIT } from '../exit.ts';
import { jsonOption, printJson } from '../output.ts';
import { dataDirOption } from '../options.ts';
import { projectRoot } from '../paths.ts';

function list(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

export function registerDeploy(program: Command): void {
  const deploy = program
    .command('deploy')
    .description(
      'The audited record of deploys and rollbacks, and the freeze windows they respect. The pipeline calls these.',
    );

  deploy
    .command('record')
    .description(
      'Write a deploy (or, with --strategy rollback, a rollback) into the audit chain as a JSON record, and print it. A production deploy needs an approver other than the operator.',
    )
    .addOption(
      new Option('--environment <environment>', 'where it was deployed')
        .choices([...ENVIRONMENTS])
        .makeOptionMandatory(),
    )
    .requiredOption('--version <version>', 'the version deployed, such as 1.4.2')
    .requiredOption('--commit <sha>', 'the git commit it was built from')
    .addOption(
      new Option('--strategy <strategy>', 'how it was deployed').choices([...STRATEGIES]).makeOptionMandatory(),
    )
    .option('--approvals <names>', 'who approved it, comma-separated', '')
    .requiredOption('--verification <ref>', 'what verified it: a smoke test run, a pipeline run address')
    .addOption(new Option('--operator <name>', 'who deployed it').env('ENTITLE_ACTOR'))
    .addOption(dataDirOption())
    .addOption(jsonOption('the record, indented (without it, one line of JSON)'))
    .action(
      async (options: {
        json?: boolean;
        environment: string;
        version: string;
        commit: string;
        strategy: string;
        approvals: string;
        verification: string;
        operator?: string;
        dataDir?: string;
      }) => {
        if (!options.operator)
          throw new EntitleError('ENTITLE_INPUT_INVALID', '--operator is required', [
            { field: '--operator', message: 'give --operator or ENTITLE_ACTOR: who is deploying' },
          ]);
        const { record } = await withDatabase(
          options,
          (db) =>
            recordDeploy(db, {
              environment: options.environment as (typeof ENVIRONMENTS)[number],
              version: options.version,
              commit: options.commit,
              strategy: options.strategy as (typeof STRATEGIES)[number],
              approvals: list(options.approvals),
              verification: options.verification,
              operator: options.operator!,
            }),
          'migrate',
        );
        if (options.json) return printJson(record);
        process.stdout.write(`${JSON.stringify(record)}\n`);
      },
    );

  deploy
    .command('history')
    .description('Deploys and rollbacks, newest first, from the audit chain.')
    .addOption(new Option('--environment <environment>', 'only this environment').choices([...ENVIRONMENTS]))
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .addOption(dataDirOption())
    .action(async (options: { environment?: string; limit: string; json?: boolean; dataDir?: string }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
        throw new EntitleError('ENTITLE_INPUT_INVALID', '--limit must be a whole number', [
          { field: '--limit', message: 'give a number from 1 to 10000' },
        ]);
      const records = await withDatabase(options, (db) => deployHistory(db, options.environment, limit));
      if (options.json) return printJson(records);
      if (records.length === 0) return void process.stdout.write('no deploys recorded\n');
      for (const r of records) {
        process.stdout.write(
          `${formatLondon(r.timestamp)}  ${r.environment.padEnd(11)} ${r.action === 'deploy.rolled_back' ? 'ROLLBACK ' : ''}${r.version} (${r.commit.slice(0, 12)}) ${r.strategy} by ${r.operator}; approved by ${r.approvals.join(', ') || 'nobody'}; verified: ${r.verification}\n`,
        );
      }
    });

  deploy
    .command('check-window')
    .description(
      'Exit 0 if a deploy may go ahead now; exit 6 inside a freeze window (entitle release freeze add), unless --emergency is given with two approvers and a reason, which is recorded.',
    )
    .option('--at <time>', 'check this UK time instead of now')
    .option('--emergency', 'override a freeze window (needs --approvals of two people and --reason)')
    .option('--approvals <names>', 'the two people approving the override, comma-separated')
    .option('--reason <text>', 'why the freeze must be overridden')
    .addOption(new Option('--actor <name>', 'who is asking').env('ENTITLE_ACTOR'))
    .addOption(dataDirOption())
    .addOption(jsonOption('whether the time is frozen, and any override'))
    .action(
      async (options: {
        json?: boolean;
        at?: string;
        emergency?: boolean;
        approvals?: string;
        reason?: string;
        actor?: string;
        dataDir?: string;
      }) => {
        const at = options.at ? new Date(londonToInstant(options.at, '--at')) : new Date();
        const emergency = options.emergency
          ? { approvers: list(options.approvals), reason: options.reason ?? '', actor: options.actor ?? 'pipeline' }
          : undefined;
        // Run before the deploy's migrations: the database may be a release behind.
        const check = await withDatabase(options, (db) => checkDeployWindow(db, at, emergency), 'behind');
        if (options.json) return printJson({ at: at.toISOString(), ...check });
        if (check.frozen)
          process.stdout.write(
            `inside the freeze window until ${formatLondon(check.frozen.endsAt)} (${check.frozen.reason}); emergency override by ${check.overriddenBy!.join(' and ')} recorded\n`,
          );
        else process.stdout.write(`no freeze window at ${formatLondon(at.toISOString())}: the deploy may go ahead\n`);
      },
    );

  deploy
    .command('manifests')
    .description(
      'Write the Kubernetes manifests under deploy/k8s (kustomize base and the dev, staging and production overlays) from the typed models in src/manifests. With --check, write nothing and exit 1 if any committed file is stale.',
    )
    .option('--check', 'only check that the committed files are current')
    .addOption(jsonOption('the files written, or with --check those out of date'))
    .action(async (options: { check?: boolean; json?: boolean }) => {
      // Loaded here: the typed models are development dependencies, absent from the image.
      const { writeManifests } = await import('../../manifests/index.ts');
      const { written, stale } = await writeManifests(projectRoot, options.check === true);
      if (options.check && stale.length > 0) process.exitCode = EXIT.failed;
      if (options.json) return printJson(options.check ? { current: stale.length === 0, stale } : { written });
      if (options.check) {
        if (stale.length === 0) return void process.stdout.write('the Kubernetes manifests are current\n');
        process.stderr.write(
          `stale, run "entitle deploy manifests" and commit:\n${stale.map((s) => `  ${s}`).join('\n')}\n`,
        );
        process.exitCode = EXIT.failed;
        return;
      }
      process.stdout.write(
        written.length === 0
          ? 'the Kubernetes manifests were already current\n'
          : `${written.map((w) => `wrote ${w}`).join('\n')}\n`,
      );
    });
}
