import { once } from 'node:events';
import { createServer } from 'node:http';
import { Option, type Command } from 'commander';
import { EntitleError } from '../../errors/index.ts';
import { Probe, PROBE_PREFIX, type JourneyResult } from '../../monitoring/index.ts';
import { EXIT } from '../exit.ts';

function every(text: string): number {
  const match = /^(\d+)(s|m)$/.exec(text.trim());
  if (!match || Number(match[1]) === 0)
    throw new EntitleError('ENTITLE_INPUT_INVALID', '--every must be a number of seconds or minutes', [
      { field: '--every', message: 'give a period such as 60s or 5m' },
    ]);
  return Number(match[1]) * (match[2] === 'm' ? 60_000 : 1_000);
}

export function registerProbe(program: Command): void {
  program
    .command('probe')
    .description(
      `Run the citizen journeys (assess a synthetic household, fetch and replay its decision) against a live service, and serve their success and latency as metrics. The household's application reference starts ${PROBE_PREFIX}, so it never mixes with citizens' decisions.`,
    )
    .requiredOption('--url <url>', 'the service, such as https://entitle.internal')
    .addOption(new Option('--key <key>', 'an API key with the assessor and caseworker roles').env('ENTITLE_PROBE_KEY'))
    .option('--every <period>', 'how often to run the journeys, such as 60s', '60s')
    .option('--once', 'run the journeys once, print the result, and exit 0 if they passed, 1 if not')
    .option('--metrics-port <port>', 'where Prometheus scrapes the probe', '9464')
    .action(async (options: { url: string; key?: string; every: string; once?: boolean; metricsPort: string }) => {
      if (!options.key)
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'the probe needs an API key', [
          {
            field: '--key',
            message:
              'give --key or ENTITLE_PROBE_KEY: a key with the assessor and caseworker roles ("entitle keys create --name probe --roles assessor,caseworker")',
          },
        ]);
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
        void probe.registry
          .metrics()
          .then((text) => response.writeHead(200, { 'content-type': probe.registry.contentType }).end(text));
      });
      server.listen(Number(options.metricsPort), '0.0.0.0');
      await once(server, 'listening');
      process.stderr.write(
        `probing ${options.url} every ${options.every}; metrics on :${options.metricsPort}/metrics\n`,
      );
      await new Promise<void>((resolve) => {
        const tick = () =>
          void probe.run().then((result) => process.stderr.write(`${new Date().toISOString()} ${report(result)}`));
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
