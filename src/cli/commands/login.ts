import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { EntitleError } from '../../errors/index.ts';
import { checkUrl, configPath, connection, removeConfig, ServiceClient, writeConfig } from '../client.ts';
import { jsonOption, printJson } from '../output.ts';

interface WhoAmI {
  readonly key: string;
  readonly person: string;
  readonly roles: readonly string[];
}

/**
 * The key, from ENTITLE_API_KEY, or else standard input: piped, or typed at a prompt that does not
 * show it. Never an argument, which would stay in the shell's history and in the process list.
 * The prompt is written by hand: readline with its echo muted.
 */
async function readKey(): Promise<string> {
  if (process.env.ENTITLE_API_KEY) return process.env.ENTITLE_API_KEY.trim();
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  if (process.stdin.isTTY) process.stderr.write('API key (not shown): ');
  const lines = createInterface({ input: process.stdin, output: muted, terminal: Boolean(process.stdin.isTTY) });
  // Ctrl-C at the prompt stops the command, as it would anywhere else.
  lines.on('SIGINT', () => {
    process.stderr.write('\n');
    process.exit(130);
  });
  try {
    for await (const line of lines) return line.trim();
    return '';
  } finally {
    lines.close();
    if (process.stdin.isTTY) process.stderr.write('\n');
  }
}

function describe(who: WhoAmI, url: string): string {
  return `${who.person} (key ${who.key}; roles ${who.roles.join(', ')}) at ${url}`;
}

/** `entitle login`, `entitle logout` and `entitle whoami`: the person's own key, configured once. */
export function registerLogin(program: Command): void {
  program
    .command('login')
    .description(
      `Save the service's address and your API key, checked with the service, so that every command acts as you. The key is read from ENTITLE_API_KEY or standard input (typed at a prompt that does not show it, or piped), never from an argument. Saved in ${'$XDG_CONFIG_HOME/entitle/config.json'} (by default ~/.config/entitle/config.json), readable only by you; ENTITLE_URL and ENTITLE_API_KEY, when set, take its place.`,
    )
    .requiredOption('--url <url>', 'the service, such as http://127.0.0.1:3000 (where "npm start" serves)')
    .addOption(jsonOption('who you are signed in as, and where'))
    .action(async (options: { url: string; json?: boolean }) => {
      const url = checkUrl(options.url, '--url');
      const key = await readKey();
      if (!key)
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'no API key was given', [
          { field: 'ENTITLE_API_KEY', message: 'type or pipe your key in, or set ENTITLE_API_KEY' },
        ]);
      const who = await new ServiceClient(url, key).get<WhoAmI>('/v1/whoami');
      const path = configPath();
      await writeConfig({ url, apiKey: key }, path);
      if (options.json) return printJson({ ...who, url, config: path });
      process.stdout.write(`signed in as ${describe(who, url)}; saved in ${path}, readable only by you\n`);
    });

  program
    .command('logout')
    .description('Forget the saved address and key (the file "entitle login" wrote).')
    .addOption(jsonOption('whether a saved key was removed'))
    .action(async (options: { json?: boolean }) => {
      const path = configPath();
      const removed = await removeConfig(path);
      if (options.json) return printJson({ removed, config: path });
      process.stdout.write(removed ? `removed ${path}\n` : `nothing to remove: ${path} does not exist\n`);
    });

  program
    .command('whoami')
    .description('Who the service says you are: the key this command line sends, its holder and roles.')
    .addOption(jsonOption('the key, its holder and roles'))
    .action(async (options: { json?: boolean }) => {
      const client = await connection();
      const who = await client.get<WhoAmI>('/v1/whoami');
      if (options.json) return printJson({ ...who, url: client.url });
      process.stdout.write(`${describe(who, client.url)}\n`);
    });
}
