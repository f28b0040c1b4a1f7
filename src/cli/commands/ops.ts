import { Option, type Command } from 'commander';
import { EntitleError } from '../../errors/index.ts';
import { formatStatus, generate, PrometheusClient, statusFromPrometheus, statusFromService, TIERS, type TierName } from '../../ops/index.ts';
import { EXIT } from '../exit.ts';
import { projectRoot } from '../paths.ts';
import { withDatabase } from './data.ts';
import { dataDirOption } from './data-options.ts';

function tiers(text: string | undefined): TierName[] {
  if (!text) return [];
  const names = text.split(',').map((t) => t.trim());
  const known = TIERS.map((t) => t.name);
  const unknown = names.filter((n) => !known.includes(n as TierName));
  if (unknown.length > 0) throw new EntitleError('ENTITLE_INPUT_INVALID', `unknown tier ${unknown.join(', ')}`, [{ field: '--disable-tiers', message: `give tiers from: ${known.join(', ')}` }]);
  return names as TierName[];
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('The on-call summary: HEALTHY, DEGRADED or UNHEALTHY, each journey\'s error budget and burn rate, the alerts firing, changes of the last 7 days, and alerts that started soon after one. Reads Prometheus when PROMETHEUS_URL is set, else the service at ENTITLE_URL.')
    .addOption(new Option('--prometheus <url>', 'Prometheus to read').env('PROMETHEUS_URL'))
    .addOption(new Option('--url <url>', 'the service, when there is no Prometheus').env('ENTITLE_URL').default('http://127.0.0.1:3000'))
    .option('--json', 'print JSON')
    .addOption(dataDirOption())
    .action(async (options: { prometheus?: string; url: string; json?: boolean; dataDir?: string }) => {
      const report = await withDatabase(options, (db) => (options.prometheus ? statusFromPrometheus(new PrometheusClient(options.prometheus), db) : statusFromService(options.url, db)));
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
      // A script can act on the verdict: 0 healthy, 1 degraded or unhealthy.
      if (report.verdict !== 'HEALTHY') process.exitCode = EXIT.failed;
    });
}

export function registerOps(program: Command): void {
  const ops = program.command('ops').description('Operations as code: SLOs, alert rules, their tests and Alertmanager configuration.');
  ops
    .command('generate')
    .description('Write the Prometheus rules, their promtool tests and the Alertmanager configuration under deploy/ from the SLO definitions in src/ops. With --check, write nothing and exit 1 if any committed file is stale.')
    .option('--check', 'only check that the committed files are current')
    .option('--runbook-base <url>', 'where the runbooks are published, for each alert\'s runbook_url', 'docs/runbooks')
    .option('--disable-tiers <tiers>', `alert tiers to switch off, comma-separated: ${TIERS.map((t) => t.name).join(', ')}`)
    .option('--webhook-url <url>', 'where Alertmanager sends alerts', 'http://127.0.0.1:9095/alerts')
    .action(async (options: { check?: boolean; runbookBase: string; disableTiers?: string; webhookUrl: string }) => {
      const { written, stale } = await generate(projectRoot, { runbookBase: options.runbookBase, disabledTiers: tiers(options.disableTiers), webhookUrl: options.webhookUrl }, options.check === true);
      if (options.check) {
        if (stale.length === 0) return void process.stdout.write('the generated operations files are current\n');
        process.stderr.write(`stale, run "entitle ops generate" and commit:\n${stale.map((s) => `  ${s}`).join('\n')}\n`);
        process.exitCode = EXIT.failed;
        return;
      }
      process.stdout.write(written.length === 0 ? 'nothing to write: every file is current\n' : `wrote ${written.length} file${written.length === 1 ? '' : 's'}:\n${written.map((w) => `  ${w}`).join('\n')}\n`);
    });
}
