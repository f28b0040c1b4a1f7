import { Option, type Command } from 'commander';
import { formatStatus, PrometheusClient, statusFromPrometheus, statusFromService } from '../../monitoring/index.ts';
import { withOperationsHistory } from '../history.ts';
import { EXIT } from '../exit.ts';
import { dataDirOption } from '../options.ts';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      "The on-call summary: HEALTHY, DEGRADED or UNHEALTHY, each journey's error budget and burn rate, the alerts firing, changes of the last 7 days, and alerts that started soon after one. Reads Prometheus when PROMETHEUS_URL is set, else the service's /metrics; changes and incidents through the service with your key (entitle login), else from the database.",
    )
    .addOption(new Option('--prometheus <url>', 'Prometheus to read').env('PROMETHEUS_URL'))
    .option(
      '--url <url>',
      'the service whose /metrics to read when there is no Prometheus (default: ENTITLE_URL, the one you logged in to, or http://127.0.0.1:3000)',
    )
    .option('--json', 'print JSON')
    .addOption(dataDirOption())
    .action(async (options: { prometheus?: string; url?: string; json?: boolean; dataDir?: string }) => {
      const report = await withOperationsHistory(options, (history, serviceUrl) =>
        options.prometheus
          ? statusFromPrometheus(new PrometheusClient(options.prometheus), history)
          : statusFromService(options.url ?? serviceUrl, history),
      );
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
      // A script can act on the verdict: 0 healthy, 1 degraded or unhealthy.
      if (report.verdict !== 'HEALTHY') process.exitCode = EXIT.failed;
    });
}
