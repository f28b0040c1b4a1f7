import type { Command } from 'commander';
import { tryChannel } from '../../notify/index.ts';
import { jsonOption, printJson } from '../output.ts';

export function registerNotify(program: Command): void {
  program
    .command('notify')
    .description('Incident notification channels (deploy/incidents/escalation-policy.yml).')
    .command('test')
    .description(
      'Send a test message to one channel of the escalation policy, exactly as the service would. Exit 0 if the channel took it, 1 if not, 2 if the policy or channel name is wrong.',
    )
    .argument('<channel>', 'the channel name, such as on-call')
    .addOption(jsonOption('whether the channel took it, and what happened'))
    .action(async (channel: string, options: { json?: boolean }) => {
      const { status, lines } = await tryChannel(channel, process.env);
      process.exitCode = status;
      if (options.json) return printJson({ channel, ok: status === 0, lines });
      (status === 0 ? process.stdout : process.stderr).write(`${lines.join('\n')}\n`);
    });
}
