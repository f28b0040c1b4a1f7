import type { Command } from 'commander';
import { envDiff, formatEnvDiff } from '../../environments/index.ts';
import { EXIT } from '../exit.ts';
import { projectRoot } from '../paths.ts';

export function registerEnv(program: Command): void {
  const env = program.command('env').description('Environments as the Kubernetes overlays describe them.');
  env
    .command('diff')
    .description(
      "List the configuration keys (never their values) that differ between two environments' overlays: set in one only, or set to different values. For parity checks before a promotion. Environments: dev, staging, production.",
    )
    .argument('<A>', 'an environment')
    .argument('<B>', 'another environment')
    .option('--json', 'print JSON')
    .option('--fail-on-difference', 'exit 1 if any key is set in one environment only')
    .action(async (a: string, b: string, options: { json?: boolean; failOnDifference?: boolean }) => {
      const diff = await envDiff(projectRoot, a, b);
      process.stdout.write(options.json ? `${JSON.stringify(diff, null, 2)}\n` : formatEnvDiff(diff));
      if (options.failOnDifference && (diff.onlyInA.length > 0 || diff.onlyInB.length > 0))
        process.exitCode = EXIT.failed;
    });
}
