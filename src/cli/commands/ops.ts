import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { Option, type Command } from 'commander';
import { EntitleError } from '../../errors/index.ts';
import { londonToInstant } from '../../uk-time/index.ts';
import { DEFAULT_WEBHOOK_KEY_FILE, DEFAULT_WEBHOOK_URL, generate } from '../../ops/index.ts';
import { EXIT } from '../exit.ts';
import { projectRoot } from '../paths.ts';
import { withDatabase } from './data.ts';
import { dataDirOption } from './data-options.ts';
import { type TierName, TIERS } from '../../slos/index.ts';
import { formatSmoke, formatStatus, Probe, PROBE_PREFIX, PrometheusClient, smoke, statusFromPrometheus, statusFromService, weeklyReport, type JourneyResult } from '../../monitoring/index.ts';

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

function every(text: string): number {
  const match = /^(\d+)(s|m)$/.exec(text.trim());
  if (!match || Number(match[1]) === 0) throw new EntitleError('ENTITLE_INPUT_INVALID', '--every must be a number of seconds or minutes', [{ field: '--every', message: 'give a period such as 60s or 5m' }]);
  return Number(match[1]) * (match[2] === 'm' ? 60_000 : 1_000);
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description(`Run the citizen journeys (assess a synthetic household, fetch and replay its decision) against a live service, and serve their success and latency as metrics. The household's application reference starts ${PROBE_PREFIX}, so it never mixes with citizens' decisions.`)
    .requiredOption('--url <url>', 'the service, such as https://entitle.internal')
    .addOption(new Option('--key <key>', 'an API key with the assessor and caseworker roles').env('ENTITLE_PROBE_KEY'))
    .option('--every <period>', 'how often to run the journeys, such as 60s', '60s')
    .option('--once', 'run the journeys once, print the result, and exit 0 if they passed, 1 if not')
    .option('--metrics-port <port>', 'where Prometheus scrapes the probe', '9464')
    .action(async (options: { url: string; key?: string; every: string; once?: boolean; metricsPort: string }) => {
      if (!options.key) throw new EntitleError('ENTITLE_INPUT_INVALID', 'the probe needs an API key', [{ field: '--key', message: 'give --key or ENTITLE_PROBE_KEY: a key with the assessor and caseworker roles ("entitle keys create --name probe --roles assessor,caseworker")' }]);
      const probe = new Probe(options.url.replace(/\/$/, ''), options.key);
      const report = (result: JourneyResult) =>
        result.ok
          ? `ok: assessed in ${result.seconds.assess?.toFixed(3)} s, fetched in ${result.seconds.fetch?.toFixed(3)} s, replayed in ${result.seconds.replay?.toFixed(3)} s\n`
          : `failed at ${result.failure!.step}: ${result.failure!.reason}\n`;
      if (options.once) {
        const result = await probe.run();
        process.stdout.write(report(result));
        if (!result.ok) process.exitCode = EXIT.failed;
        return;
      }
      const period = every(options.every);
      const server = createServer((request, response) => {
        if (request.url !== '/metrics') return void response.writeHead(404).end();
        void probe.registry.metrics().then((text) => response.writeHead(200, { 'content-type': probe.registry.contentType }).end(text));
      });
      server.listen(Number(options.metricsPort), '0.0.0.0');
      await once(server, 'listening');
      process.stderr.write(`probing ${options.url} every ${options.every}; metrics on :${options.metricsPort}/metrics\n`);
      await new Promise<void>((resolve) => {
        const tick = () => void probe.run().then((result) => process.stderr.write(`${new Date().toISOString()} ${report(result)}`));
        tick();
        const timer = setInterval(tick, period);
        const stop = () => {
          clearInterval(timer);
          server.close(() => resolve());
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}

export function registerSmoke(program: Command): void {
  program
    .command('smoke')
    .description(`Run every citizen journey against a deployed service within 60 seconds: health, readiness, metrics, then a synthetic household (${PROBE_PREFIX}) assessed, its decision fetched and replayed. Prints each step; exits 0 if all passed, 1 if any failed.`)
    .requiredOption('--url <url>', 'the deployed service, such as https://entitle.staging.internal')
    .addOption(new Option('--key <key>', 'an API key with the assessor and caseworker roles').env('ENTITLE_SMOKE_KEY'))
    .option('--json', 'print JSON')
    .action(async (options: { url: string; key?: string; json?: boolean }) => {
      if (!options.key) throw new EntitleError('ENTITLE_INPUT_INVALID', 'the smoke test needs an API key', [{ field: '--key', message: 'give --key or ENTITLE_SMOKE_KEY: a key with the assessor and caseworker roles ("entitle keys create --name smoke --roles assessor,caseworker")' }]);
      const report = await smoke(options.url.replace(/\/$/, ''), options.key);
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatSmoke(report));
      if (!report.ok) process.exitCode = EXIT.failed;
    });
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('Operations reports.')
    .command('weekly')
    .description('Write the weekly operations report (Markdown): each journey against its objective and the budget the week burned, latency, assessments by outcome, errors by kind, releases and rollbacks.')
    .addOption(new Option('--prometheus <url>', 'Prometheus to read').env('PROMETHEUS_URL'))
    .option('--week-ending <date>', 'the end of the week reported, UK date (default: now)')
    .option('--out <file>', 'write to this file instead of standard output')
    .addOption(dataDirOption())
    .action(async (options: { prometheus?: string; weekEnding?: string; out?: string; dataDir?: string }) => {
      if (!options.prometheus) throw new EntitleError('ENTITLE_INPUT_INVALID', 'the weekly report needs Prometheus', [{ field: '--prometheus', message: 'give --prometheus URL or PROMETHEUS_URL: the week\'s history is only there' }]);
      const end = options.weekEnding ? new Date(londonToInstant(options.weekEnding, '--week-ending')) : new Date();
      const text = await withDatabase(options, (db) => weeklyReport(new PrometheusClient(options.prometheus!), db, end));
      if (options.out) await writeFile(options.out, text);
      else process.stdout.write(text);
    });
}

export function registerOps(program: Command): void {
  const ops = program.command('ops').description('Operations as code: SLOs, alert rules, their tests and Alertmanager configuration.');
  ops
    .command('generate')
    .description('Write the Prometheus rules, their promtool tests and the Alertmanager configuration under deploy/ from the SLO definitions in src/slos and the failure modes in src/ops. With --check, write nothing and exit 1 if any committed file is stale.')
    .option('--check', 'only check that the committed files are current')
    .option('--runbook-base <url>', 'where the runbooks are published, for each alert\'s runbook_url', 'docs/runbooks')
    .option('--disable-tiers <tiers>', `alert tiers to switch off, comma-separated: ${TIERS.map((t) => t.name).join(', ')}`)
    .option('--webhook-url <url>', "where Alertmanager sends alerts: the service's incident webhook", DEFAULT_WEBHOOK_URL)
    .option('--webhook-key-file <file>', 'where Alertmanager reads the API key (role alertmanager) it sends with them', DEFAULT_WEBHOOK_KEY_FILE)
    .action(async (options: { check?: boolean; runbookBase: string; disableTiers?: string; webhookUrl: string; webhookKeyFile: string }) => {
      const { written, stale } = await generate(projectRoot, { runbookBase: options.runbookBase, disabledTiers: tiers(options.disableTiers), webhookUrl: options.webhookUrl, webhookKeyFile: options.webhookKeyFile }, options.check === true);
      if (options.check) {
        if (stale.length === 0) return void process.stdout.write('the generated operations files are current\n');
        process.stderr.write(`stale, run "entitle ops generate" and commit:\n${stale.map((s) => `  ${s}`).join('\n')}\n`);
        process.exitCode = EXIT.failed;
        return;
      }
      process.stdout.write(written.length === 0 ? 'nothing to write: every file is current\n' : `wrote ${written.length} file${written.length === 1 ? '' : 's'}:\n${written.map((w) => `  ${w}`).join('\n')}\n`);
    });
}
