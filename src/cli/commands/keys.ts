import type { Command } from 'commander';
import { EntitleError } from '../../errors/index.ts';
import { createKey, expiryIn, MAX_KEY_DAYS, MAX_OVERLAP_DAYS, ROLES, type KeyListing } from '../../keys/index.ts';
import { connection } from '../client.ts';
import { withDatabase } from '../database.ts';
import { dataDirOption } from '../options.ts';
import { jsonOption, printJson } from '../output.ts';

interface Created {
  readonly key: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly person: string;
}

/** `entitle keys create|list|revoke`. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('Create, list and revoke API keys, each held by a person.');
  keys
    .command('create')
    .description(
      'Create an API key, printed once (only its hash is stored). Made through the service by an admin (entitle login), who is recorded as its maker; the first key, while the database has no admin key, is made on the database itself (DATABASE_URL or the data directory).',
    )
    .requiredOption('--name <name>', 'a name for the key, such as alice-laptop or front-end-1')
    .requiredOption('--roles <roles>', `comma-separated: ${ROLES.join(', ')}`)
    .option(
      '--person <name>',
      "the person who holds the key, such as 'Alice Smith': who acts when it is used. One person may hold several keys, and the two-person rule counts people, not keys (default: the key's name, for a service's key)",
    )
    .option('--existing-person', 'the person holds keys already: this is another of theirs')
    .option('--bootstrap', 'make it on the database itself even when a key is configured (the first key only)')
    .option(
      '--expires-in-days <days>',
      `the key stops working this many days from now, 1 to ${MAX_KEY_DAYS} (default: never)`,
    )
    .addOption(dataDirOption())
    .addOption(jsonOption('the key, its name, roles and holder'))
    .action(
      async (options: {
        name: string;
        roles: string;
        person?: string;
        existingPerson?: boolean;
        bootstrap?: boolean;
        dataDir?: string;
        json?: boolean;
        expiresInDays?: string;
      }) => {
        const days = daysOption(options.expiresInDays, '--expires-in-days', MAX_KEY_DAYS);
        const roles = options.roles
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean);
        // Through the service when this command line has a key for it (the one used, as for every
        // other command); the bootstrap on the database otherwise, or when asked for.
        const client = options.bootstrap ? undefined : await connection();
        const created = client?.hasKey
          ? await client.post<Created>('/v1/keys', {
              name: options.name,
              roles,
              ...(options.person !== undefined ? { person: options.person } : {}),
              ...(options.existingPerson ? { existingPerson: true } : {}),
              ...(days !== undefined ? { expiresInDays: days } : {}),
            })
          : await withDatabase(
              options,
              async (db) => {
                // The first key, made on the database itself: only while it holds no active
                // admin key (a new service, or every admin key revoked), recorded as a bootstrap.
                const { key, apiKey } = await createKey(
                  db,
                  options.name,
                  roles,
                  'bootstrap (on the database)',
                  options.person,
                  {
                    bootstrap: true,
                    existingPerson: options.existingPerson === true,
                    expiresAt: expiryIn(days, '--expires-in-days'),
                  },
                );
                return { key, name: apiKey.name, roles: apiKey.roles, person: apiKey.person };
              },
              'migrate',
            );
        if (options.json) return printJson(created);
        process.stdout.write(`${created.key}\n`);
        process.stderr.write(
          `created key ${created.name} for ${created.person} with roles ${created.roles.join(', ')}; it is shown only this once\n`,
        );
      },
    );
  keys
    .command('list')
    .description('List API keys (names, holders, roles, dates; never the keys), from the service (admin or auditor).')
    .addOption(jsonOption('the keys'))
    .action(async (options: { json?: boolean }) => {
      const listed = await (await connection()).get<KeyListing[]>('/v1/keys');
      if (options.json) return printJson(listed);
      for (const key of listed) {
        process.stdout.write(
          `${key.name}\t${key.person}\t${key.roles.join(',')}\tcreated ${key.createdAt}${key.expiresAt ? `\texpires ${key.expiresAt}` : ''}${key.revokedAt ? `\trevoked ${key.revokedAt}` : ''}\n`,
        );
      }
    });
  keys
    .command('rotate')
    .description(
      'Rotate a key through the service (admin): a new key, printed once, for the same holder and roles, and the old one set to stop working after the overlap, so whatever uses it moves over without downtime. Both are recorded in the audit chain.',
    )
    .argument('<name>', 'the key to rotate, as "entitle keys list" names it')
    .requiredOption('--new-name <name>', 'the name of the new key, such as front-end-2')
    .option('--overlap-days <days>', `how long the old key keeps working, 1 to ${MAX_OVERLAP_DAYS}`, '7')
    .option('--expires-in-days <days>', `the new key stops working this many days from now, 1 to ${MAX_KEY_DAYS}`)
    .addOption(jsonOption('the new key, and when the old one stops'))
    .action(
      async (
        name: string,
        options: { newName: string; overlapDays: string; expiresInDays?: string; json?: boolean },
      ) => {
        const overlapDays = daysOption(options.overlapDays, '--overlap-days', MAX_OVERLAP_DAYS)!;
        const expiresInDays = daysOption(options.expiresInDays, '--expires-in-days', MAX_KEY_DAYS);
        const rotated = await (
          await connection()
        ).post<Created & { old: { name: string; expiresAt: string } }>(`/v1/keys/${encodeURIComponent(name)}/rotate`, {
          newName: options.newName,
          overlapDays,
          ...(expiresInDays !== undefined ? { expiresInDays } : {}),
        });
        if (options.json) return printJson(rotated);
        process.stdout.write(`${rotated.key}\n`);
        process.stderr.write(
          `created key ${rotated.name} for ${rotated.person} with roles ${rotated.roles.join(', ')}; it is shown only this once. Key ${rotated.old.name} stops working at ${rotated.old.expiresAt}\n`,
        );
      },
    );
  keys
    .command('assign')
    .description(
      'Give a key made before keys belonged to people its holder, through the service (admin); recorded in the audit chain. A key that has a holder keeps them.',
    )
    .argument('<name>', 'the key, as "entitle keys list" names it')
    .requiredOption('--person <name>', 'who holds it, such as Alice Smith')
    .option('--existing-person', 'the person holds other keys already')
    .addOption(jsonOption('the key, with its holder'))
    .action(async (name: string, options: { person: string; existingPerson?: boolean; json?: boolean }) => {
      const assigned = await (
        await connection()
      ).post<KeyListing>(`/v1/keys/${encodeURIComponent(name)}/holder`, {
        person: options.person,
        ...(options.existingPerson ? { existingPerson: true } : {}),
      });
      if (options.json) return printJson(assigned);
      process.stdout.write(`${assigned.name} is held by ${assigned.person}\n`);
    });
  keys
    .command('revoke')
    .description('Revoke an API key by name, through the service (admin).')
    .argument('<name>', 'the key to revoke')
    .addOption(jsonOption('the key revoked'))
    .action(async (name: string, options: { json?: boolean }) => {
      const revoked = await (
        await connection()
      ).post<{ revoked: string }>(`/v1/keys/${encodeURIComponent(name)}/revoke`, {});
      if (options.json) return printJson(revoked);
      process.stdout.write(`revoked ${revoked.revoked}\n`);
    });
}

/** A number of days given as an option, refused by name unless a whole number from 1 to `max`. */
function daysOption(text: string | undefined, field: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  const days = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || days < 1 || days > max)
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${field} is not valid`, [
      { field, message: `give a whole number of days from 1 to ${max}` },
    ]);
  return days;
}
