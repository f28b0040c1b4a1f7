import type { Command } from 'commander';
import { EntitleError } from '../../errors/index.ts';
import { createKey, listKeys, revokeKey, ROLES } from '../../keys/index.ts';
import { withDatabase } from '../database.ts';
import { dataDirOption } from '../options.ts';
import { jsonOption, printJson } from '../output.ts';

/** `entitle keys create|list|revoke`. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('Create, list and revoke API keys.');
  keys
    .command('create')
    .description('Create an API key. The key is printed once; only its hash is stored.')
    .requiredOption('--name <name>', 'a name for the key, such as front-end-1')
    .requiredOption('--roles <roles>', `comma-separated: ${ROLES.join(', ')}`)
    .option(
      '--person <name>',
      "the person who holds the key, such as 'Alice Smith': who acts when it is used. One person may hold several keys, and the two-person rule counts people, not keys (default: the key's name, for a service's key)",
    )
    .addOption(dataDirOption())
    .addOption(jsonOption('the key, its name, roles and holder'))
    .action(async (options: { name: string; roles: string; person?: string; dataDir?: string; json?: boolean }) => {
      const roles = options.roles
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean);
      const { key, apiKey } = await withDatabase(
        options,
        (db) => createKey(db, options.name, roles, 'operator', options.person),
        'migrate',
      );
      if (options.json) return printJson({ key, name: apiKey.name, roles: apiKey.roles, person: apiKey.person });
      process.stdout.write(`${key}\n`);
      process.stderr.write(
        `created key ${apiKey.name} for ${apiKey.person} with roles ${apiKey.roles.join(', ')}; it is shown only this once\n`,
      );
    });
  keys
    .command('list')
    .description('List API keys (names, roles, dates; never the keys).')
    .addOption(dataDirOption())
    .addOption(jsonOption('the keys'))
    .action(async (options: { dataDir?: string; json?: boolean }) => {
      const keys = await withDatabase(options, listKeys);
      if (options.json) return printJson(keys);
      for (const key of keys) {
        process.stdout.write(
          `${key.name}\t${key.person}\t${key.roles.join(',')}\tcreated ${key.createdAt}${key.revokedAt ? `\trevoked ${key.revokedAt}` : ''}\n`,
        );
      }
    });
  keys
    .command('revoke')
    .description('Revoke an API key by name.')
    .argument('<name>', 'the key to revoke')
    .addOption(dataDirOption())
    .addOption(jsonOption('the key revoked'))
    .action(async (name: string, options: { dataDir?: string; json?: boolean }) => {
      if (!(await withDatabase(options, (db) => revokeKey(db, name)))) {
        throw new EntitleError('ENTITLE_NOT_FOUND', `no active key named ${name}`, [
          { field: 'name', message: 'check the name with "entitle keys list"' },
        ]);
      }
      if (options.json) return printJson({ revoked: name });
      process.stdout.write(`revoked ${name}\n`);
    });
}
