import { Option, type Command } from 'commander';
import { EntitleError } from '../../errors/index.ts';
import { formatSmoke, PROBE_PREFIX, smoke } from '../../monitoring/index.ts';
import { EXIT } from '../exit.ts';

export function registerSmoke(program: Command): void {
  program
    .command('smoke')
    .description(
      `Run every citizen journey against a deployed service within 60 seconds: health, readiness, metrics, then a synthetic household (${PROBE_PREFIX}) assessed, its decision fetched and replayed. Prints each step; exits 0 if all passed, 1 if any failed.`,
    )
    .requiredOption('--url <url>', 'the deployed service, such as https://entitle.staging.internal')
    .addOption(new Option('--key <key>', 'an API key with the assessor and caseworker roles').env('ENTITLE_SMOKE_KEY'))
    .option('--json', 'print JSON')
    .action(async (options: { url: string; key?: string; json?: boolean }) => {
      if (!options.key)
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'the smoke test needs an API key', [
          {
            field: '--key',
            message:
              'give --key or ENTITLE_SMOKE_KEY: a key with the assessor and caseworker roles ("entitle keys create --name smoke --roles assessor,caseworker")',
          },
        ]);
      const report = await smoke(options.url.replace(/\/$/, ''), options.key);
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatSmoke(report));
      if (!report.ok) process.exitCode = EXIT.failed;
    });
}
