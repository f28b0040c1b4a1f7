import { Option, type Command } from 'commander';
import { STRATEGIES, type DeployApproval, type DeployRecord, type WindowCheck } from '../../../deploys/index.ts';
import { ENVIRONMENTS } from '../../../environments/index.ts';
import { EntitleError } from '../../../errors/index.ts';
import { formatLondon, londonToInstant } from '../../../uk-time/index.ts';
import { connection } from '../../client.ts';
import { EXIT } from '../../exit.ts';
import { jsonOption, printJson } from '../../output.ts';
import { projectRoot } from '../../paths.ts';
import { registerDeployWatch } from './watch.ts';

interface Build {
  environment?: string;
  version?: string;
  commit?: string;
}

export function registerDeploy(program: Command): void {
  const deploy = program
    .command('deploy')
    .description(
      'The audited record of deploys and rollbacks, their approvals and the freeze windows they respect, through the service with your own key. The pipeline calls these with its key.',
    );

  /** The build a step is about: the same three options on approve, record and an override. */
  const buildOptions = (command: Command, mandatory = true) => {
    const environment = new Option('--environment <environment>', 'where it is deployed').choices([...ENVIRONMENTS]);
    command
      .addOption(mandatory ? environment.makeOptionMandatory() : environment)
      .option('--version <version>', 'the version, such as 1.4.2')
      .option('--commit <sha>', 'the whole git commit it was built from (40 characters)');
    return command;
  };
  const buildOf = (options: Build, why: string) => {
    const missing = (['environment', 'version', 'commit'] as const).filter((k) => !options[k]?.trim());
    if (missing.length > 0)
      throw new EntitleError('ENTITLE_INPUT_INVALID', `${why} names the build`, [
        ...missing.map((k) => ({ field: `--${k}`, message: `give --${k}` })),
      ]);
    return { environment: options.environment!, version: options.version!.trim(), commit: options.commit!.trim() };
  };

  buildOptions(
    deploy
      .command('approve')
      .description(
        'Approve one build (version and whole commit) for one environment with your own key: a production deploy needs two approvers other than the one deploying, and so does overriding a freeze window (--emergency).',
      ),
  )
    .option('--emergency', 'approve overriding a freeze window for this build (counts for 24 hours)')
    .option('--reason <text>', 'why it may go ahead: recorded in the audit chain')
    .addOption(jsonOption('the approval'))
    .action(async (options: Build & { emergency?: boolean; reason?: string; json?: boolean }) => {
      const build = buildOf(options, 'an approval');
      if (!options.reason?.trim())
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'an approval needs a reason', [
          { field: '--reason', message: 'say why it may go ahead: the audit chain records it' },
        ]);
      const approval = await (
        await connection()
      ).post<DeployApproval>('/v1/deploys/approvals', {
        ...build,
        emergency: options.emergency === true,
        reason: options.reason.trim(),
      });
      if (options.json) return printJson(approval);
      process.stdout.write(
        `${approval.approver} approved ${approval.emergency ? 'an emergency override for ' : ''}version ${approval.version} (commit ${approval.commit.slice(0, 12)}) in ${approval.environment}\n`,
      );
    });

  buildOptions(
    deploy
      .command('record')
      .description(
        'Record a deploy (or, with --strategy rollback, a rollback) in the audit chain through the service, as done by you, the holder of the key (the pipeline), and print the JSON record. Its approvals are the people who ran "entitle deploy approve" for this build; production needs two other than you.',
      ),
  )
    .addOption(
      new Option('--strategy <strategy>', 'how it was deployed').choices([...STRATEGIES]).makeOptionMandatory(),
    )
    .requiredOption('--verification <ref>', 'what verified it: a smoke test run, a pipeline run address')
    .addOption(jsonOption('the record, indented (without it, one line of JSON)'))
    .action(async (options: Build & { json?: boolean; strategy: string; verification: string }) => {
      const record = await (
        await connection()
      ).post<DeployRecord>('/v1/deploys', {
        ...buildOf(options, 'a deploy record'),
        strategy: options.strategy,
        verification: options.verification,
      });
      if (options.json) return printJson(record);
      process.stdout.write(`${JSON.stringify(record)}\n`);
    });

  registerDeployWatch(deploy);

  deploy
    .command('history')
    .description('Deploys and rollbacks, newest first, from the audit chain.')
    .addOption(new Option('--environment <environment>', 'only this environment').choices([...ENVIRONMENTS]))
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .action(async (options: { environment?: string; limit: string; json?: boolean }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
        throw new EntitleError('ENTITLE_INPUT_INVALID', '--limit must be a whole number', [
          { field: '--limit', message: 'give a number from 1 to 10000' },
        ]);
      const query = new URLSearchParams({
        limit: String(limit),
        ...(options.environment ? { environment: options.environment } : {}),
      });
      const { deploys: records } = await (
        await connection()
      ).get<{ deploys: (DeployRecord & { action: string })[] }>(`/v1/deploys?${query.toString()}`);
      if (options.json) return printJson(records);
      if (records.length === 0) return void process.stdout.write('no deploys recorded\n');
      for (const r of records) {
        process.stdout.write(
          `${formatLondon(r.timestamp)}  ${r.environment.padEnd(11)} ${r.action === 'deploy.rolled_back' ? 'ROLLBACK ' : ''}${r.version} (${r.commit.slice(0, 12)}) ${r.strategy} by ${r.operator}; approved by ${r.approvals.join(', ') || 'nobody'}; verified: ${r.verification}\n`,
        );
      }
    });

  buildOptions(
    deploy
      .command('check-window')
      .description(
        'Exit 0 if a deploy may go ahead now; exit 6 inside a freeze window (entitle release freeze add), unless --emergency is given for a build two approvers approved as an emergency ("entitle deploy approve --emergency"), with a reason, which is recorded. Given a production build, exit 6 also unless two people other than you approved it.',
      ),
    false,
  )
    .option('--at <time>', 'check this UK time instead of now')
    .option('--emergency', 'override a freeze window for this build (--environment, --version, --commit, --reason)')
    .option('--reason <text>', 'why the freeze must be overridden')
    .addOption(jsonOption('whether the time is frozen, and any override'))
    .action(async (options: Build & { json?: boolean; at?: string; emergency?: boolean; reason?: string }) => {
      if (options.at !== undefined) londonToInstant(options.at, '--at');
      const named = options.environment || options.version || options.commit;
      const build =
        options.emergency || named
          ? buildOf(options, options.emergency ? 'an emergency override' : 'a check')
          : undefined;
      if (options.emergency && !options.reason?.trim())
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'an emergency override needs a reason', [
          { field: '--reason', message: 'say why the freeze must be overridden' },
        ]);
      const check = await (
        await connection()
      ).post<WindowCheck & { at: string }>('/v1/deploys/window-check', {
        ...(options.at !== undefined ? { at: options.at } : {}),
        ...(build ? { build } : {}),
        ...(options.emergency ? { emergency: { reason: options.reason!.trim() } } : {}),
      });
      if (options.json) return printJson(check);
      if (check.frozen)
        process.stdout.write(
          `inside the freeze window until ${formatLondon(check.frozen.endsAt)} (${check.frozen.reason}); emergency override by ${check.overriddenBy!.join(' and ')} recorded\n`,
        );
      else process.stdout.write(`no freeze window at ${formatLondon(check.at)}: the deploy may go ahead\n`);
      if (check.approvals)
        process.stdout.write(`approved by ${check.approvals.join(', ') || 'nobody (not needed outside production)'}\n`);
    });

  deploy
    .command('manifests')
    .description(
      'Write the Kubernetes manifests under deploy/k8s (kustomize base and the dev, staging and production overlays) from the typed models in src/manifests. With --check, write nothing and exit 1 if any committed file is stale.',
    )
    .option('--check', 'only check that the committed files are current')
    .addOption(jsonOption('the files written, or with --check those out of date'))
    .action(async (options: { check?: boolean; json?: boolean }) => {
      // Loaded here: the typed models are development dependencies, absent from the image.
      const { writeManifests } = await import('../../../manifests/index.ts');
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
