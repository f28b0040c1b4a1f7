import { Option, type Command } from 'commander';
import { formatStatus, PrometheusClient, statusFromPrometheus, statusFromService } from '../../monitoring/index.ts';
import { withDatabase } from '../database.ts';
import { EXIT } from '../exit.ts';
import { dataDirOption } from '../options.ts';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      "The on-call summary: HEALTHY, DEGRADED or UNHEALTHY, each journey's error budget and burn rate, the alerts firing, changes of the last 7 days, and alerts that started soon after one. Reads Prometheus when PROMETHEUS_URL is set, else the service at ENTITLE_URL.",
    )
    .addOption(new Option('--prometheus <url>', 'Prometheus to read').env('PROMETHEUS_URL'))
    .addOption(
      new Option('--url <url>', 'the service, when there is no Prometheus')
        .env('ENTITLE_URL')
        .default('http://127.0.0.1:3000'),
    )
    .option('--json', 'print JSON')
    .addOption(dataDirOption())
    .action(async (options: { prometheus?: string; url: string; json?: boolean; dataDir?: string }) => {
      const report = await withDatabase(options, (db) =>
        options.prometheus
          ? statusFromPrometheus(new PrometheusClient(options.prometheus), db)
          : statusFromService(options.url, db),
      );
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
      // A script can act on the verdict: 0 healthy, 1 degraded or unhealthy.
      if (report.verdict !== 'HEALTHY') process.exitCode = EXIT.failed;
    });
}
