import type { Command } from 'commander';
import { EntitleError } from '../../errors/index.ts';
import { DEFAULT_WEBHOOK_KEY_FILE, DEFAULT_WEBHOOK_URL, generate } from '../../ops/index.ts';
import { TIERS, type TierName } from '../../slos/index.ts';
import { EXIT } from '../exit.ts';
import { jsonOption, printJson } from '../output.ts';
import { projectRoot } from '../paths.ts';

function tiers(text: string | undefined): TierName[] {
  if (!text) return [];
  const names = text.split(',').map((t) => t.trim());
  const known = TIERS.map((t) => t.name);
  const unknown = names.filter((n) => !known.includes(n as TierName));
  if (unknown.length > 0)
    throw new EntitleError('ENTITLE_INPUT_INVALID', `unknown tier ${unknown.join(', ')}`, [
      { field: '--disable-tiers', message: `give tiers from: ${known.join(', ')}` },
    ]);
  return names as TierName[];
}

export function registerOps(program: Command): void {
  const ops = program
    .command('ops')
    .description('Operations as code: SLOs, alert rules, their tests and Alertmanager configuration.');
  ops
    .command('generate')
    .description(
      'Write the Prometheus rules, their promtool tests and the Alertmanager configuration under deploy/ from the SLO definitions in src/slos and the failure modes in src/ops. With --check, write nothing and exit 1 if any committed file is stale.',
    )
    .option('--check', 'only check that the committed files are current')
    .option('--runbook-base <url>', "where the runbooks are published, for each alert's runbook_url", 'docs/runbooks')
    .option(
      '--disable-tiers <tiers>',
      `alert tiers to switch off, comma-separated: ${TIERS.map((t) => t.name).join(', ')}`,
    )
    .option(
      '--webhook-url <url>',
      "where Alertmanager sends alerts: the service's incident webhook",
      DEFAULT_WEBHOOK_URL,
    )
    .option(
      '--webhook-key-file <file>',
      'where Alertmanager reads the API key (role alertmanager) it sends with them',
      DEFAULT_WEBHOOK_KEY_FILE,
    )
    .addOption(jsonOption('the files written, or with --check those out of date'))
    .action(
      async (options: {
        check?: boolean;
        runbookBase: string;
        disableTiers?: string;
        webhookUrl: string;
        webhookKeyFile: string;
        json?: boolean;
      }) => {
        const { written, stale } = await generate(
          projectRoot,
          {
            runbookBase: options.runbookBase,
            disabledTiers: tiers(options.disableTiers),
            webhookUrl: options.webhookUrl,
            webhookKeyFile: options.webhookKeyFile,
          },
          options.check === true,
        );
        if (options.check && stale.length > 0) process.exitCode = EXIT.failed;
        if (options.json) return printJson(options.check ? { current: stale.length === 0, stale } : { written });
        if (options.check) {
          if (stale.length === 0) return void process.stdout.write('the generated operations files are current\n');
          process.stderr.write(
            `stale, run "entitle ops generate" and commit:\n${stale.map((s) => `  ${s}`).join('\n')}\n`,
          );
          process.exitCode = EXIT.failed;
          return;
        }
        process.stdout.write(
          written.length === 0
            ? 'nothing to write: every file is current\n'
            : `wrote ${written.length} file${written.length === 1 ? '' : 's'}:\n${written.map((w) => `  ${w}`).join('\n')}\n`,
        );
      },
    );
}
