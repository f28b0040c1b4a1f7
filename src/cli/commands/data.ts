import { Option, type Command } from 'commander';
import { createKey, listKeys, revokeKey, ROLES } from '../../keys/index.ts';
import { verifyAuditChain } from '../../audit/index.ts';
import { purgeInputs, verifyChain } from '../../decisions/index.ts';
import { purgeSampleInputs } from '../../releases/index.ts';
import { EntitleError } from '../../errors/index.ts';
import { parseIsoDate } from '../../rules/index.ts';
import { describeStore, migrate, migrationsCurrent, openDatabase, storeSettingsFrom, type Database } from '../../store/index.ts';
import { EXIT } from '../exit.ts';
import { dataDirOption } from './data-options.ts';

/**
 * Opens the configured database, runs `work`, and always closes it. Commands that write (keys)
 * migrate first, as the server would; commands that only read or purge need the schema there
 * already and never change it.
 */
/**
 * `existing` needs every migration of this release; `behind` accepts a database a release behind
 * (a deploy's checks run before its migration Job).
 */
export async function withDatabase<T>(options: { dataDir?: string }, work: (db: Database) => Promise<T>, mode: 'migrate' | 'existing' | 'behind' = 'existing'): Promise<T> {
  const settings = storeSettingsFrom(options);
  const db = await openDatabase(settings);
  try {
    if (mode === 'migrate') await migrate(db);
    else if (mode === 'existing' && !(await migrationsCurrent(db).catch(() => false))) {
      throw new EntitleError('ENTITLE_STORE_UNAVAILABLE', `the ${describeStore(settings)} has not been set up by this version of Entitle`, [
        { message: 'start "entitle serve" once against it (it migrates at start-up), then run this command again' },
      ]);
    }
    return await work(db);
  } catch (error) {
    if (error instanceof EntitleError) throw error;
    throw new EntitleError('ENTITLE_STORE_UNAVAILABLE', `the ${describeStore(settings)} could not be used: ${(error as Error).name}`, [
      { message: 'check DATABASE_URL (or the data directory) and that the database is running' },
    ]);
  } finally {
    await db.close();
  }
}

export function registerData(program: Command): void {
  const keys = program.command('keys').description('Create, list and revoke API keys.');
  keys
    .command('create')
    .description('Create an API key. The key is printed once; only its hash is stored.')
    .requiredOption('--name <name>', 'a name for the key, such as front-end-1')
    .requiredOption('--roles <roles>', `comma-separated: ${ROLES.join(', ')}`)
    .addOption(dataDirOption())
    .action(async (options: { name: string; roles: string; dataDir?: string }) => {
      const roles = options.roles.split(',').map((r) => r.trim()).filter(Boolean);
      const { key, apiKey } = await withDatabase(options, (db) => createKey(db, options.name, roles), 'migrate');
      process.stdout.write(`${key}\n`);
      process.stderr.write(`created key ${apiKey.name} with roles ${apiKey.roles.join(', ')}; it is shown only this once\n`);
    });
  keys
    .command('list')
    .description('List API keys (names, roles, dates; never the keys).')
    .addOption(dataDirOption())
    .action(async (options: { dataDir?: string }) => {
      for (const key of await withDatabase(options, listKeys)) {
        process.stdout.write(`${key.name}\t${key.roles.join(',')}\tcreated ${key.createdAt}${key.revokedAt ? `\trevoked ${key.revokedAt}` : ''}\n`);
      }
    });
  keys
    .command('revoke')
    .description('Revoke an API key by name.')
    .argument('<name>', 'the key to revoke')
    .addOption(dataDirOption())
    .action(async (name: string, options: { dataDir?: string }) => {
      if (!(await withDatabase(options, (db) => revokeKey(db, name)))) {
        throw new EntitleError('ENTITLE_NOT_FOUND', `no active key named ${name}`, [{ field: 'name', message: 'check the name with "entitle keys list"' }]);
      }
      process.stdout.write(`revoked ${name}\n`);
    });

  program
    .command('audit')
    .description('Check the record of decisions.')
    .command('verify')
    .description('Walk the hash chains of decisions and of release steps; report the first missing, reordered or altered record and exit 1.')
    .addOption(dataDirOption())
    .action(async (options: { dataDir?: string }) => {
      const [report, audit] = await withDatabase(options, async (db) => [await verifyChain(db), await verifyAuditChain(db)] as const);
      if (report.ok) {
        process.stdout.write(`verified ${report.verified} decision${report.verified === 1 ? '' : 's'}: the chain is intact\nhead ${report.head}\n`);
      } else {
        process.stderr.write(`chain broken after ${report.verified} good record${report.verified === 1 ? '' : 's'}: ${report.problem.message}${report.problem.id ? ` (decision ${report.problem.id})` : ''}\n`);
        process.exitCode = EXIT.failed;
      }
      if (audit.ok) {
        process.stdout.write(`verified ${audit.verified} audit event${audit.verified === 1 ? '' : 's'}: the audit chain is intact\n`);
      } else {
        process.stderr.write(`audit chain broken after ${audit.verified} good event${audit.verified === 1 ? '' : 's'}: ${audit.message}\n`);
        process.exitCode = EXIT.failed;
      }
    });

  program
    .command('decisions')
    .description('Manage recorded decisions.')
    .command('purge')
    .description('Remove the personal inputs of old decisions (retention). Decisions, their outcomes and the hash chain stay, and still verify.')
    .option('--before <date>', 'purge decisions made before this date, YYYY-MM-DD')
    .addOption(new Option('--retention-days <days>', 'or: keep inputs this many days, purge older ones').env('ENTITLE_RETENTION_DAYS'))
    .addOption(dataDirOption())
    .action(async (options: { before?: string; retentionDays?: string; dataDir?: string }) => {
      const cutoff = purgeCutoff(options);
      const [count, samples] = await withDatabase(options, async (db) => [await purgeInputs(db, cutoff), await purgeSampleInputs(db, cutoff)]);
      process.stdout.write(`removed the inputs of ${count} decision${count === 1 ? '' : 's'} made before ${cutoff}`);
      process.stdout.write(samples > 0 ? `, and of ${samples} release comparison sample${samples === 1 ? '' : 's'}\n` : '\n');
    });
}

/** The moment before which inputs are purged: a date given, or now less the retention period. */
export function purgeCutoff(options: { before?: string | undefined; retentionDays?: string | undefined }, now = new Date()): string {
  if (options.before !== undefined) {
    if (parseIsoDate(options.before) === undefined) {
      throw new EntitleError('ENTITLE_INPUT_INVALID', '--before must be a date', [{ field: '--before', message: 'enter a date such as 2019-04-06' }]);
    }
    return `${options.before}T00:00:00.000Z`;
  }
  const days = Number(options.retentionDays);
  if (options.retentionDays === undefined || !Number.isInteger(days) || days < 1) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'say which decisions to purge', [
      { field: '--before', message: 'give --before YYYY-MM-DD, or --retention-days N (or ENTITLE_RETENTION_DAYS) with N a whole number of days, 1 or more' },
    ]);
  }
  return new Date(now.getTime() - days * 86_400_000).toISOString();
}
