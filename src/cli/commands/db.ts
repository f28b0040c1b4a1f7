import type { Command } from 'commander';
import { EntitleError } from '../../errors/index.ts';
import { checkMigrations, describeStore, migrate, openDatabase, readMigrations, shippedMigrations, storeSettingsFrom, type Migration } from '../../store/index.ts';
import { dataDirOption } from './data-options.ts';
import { EXIT } from '../exit.ts';

async function migrationsIn(dir: string): Promise<Migration[]> {
  try {
    return await readMigrations(dir);
  } catch {
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the migrations directory could not be read', [{ field: '--dir', message: 'give a directory of NNN-name.sql files' }]);
  }
}

export function registerDb(program: Command): void {
  const db = program.command('db').description('Database schema: migrations, and their safety for zero-downtime deploys.');
  db.command('migrate')
    .description(
      'Apply the migrations this release ships that the database does not have yet, under the same lock the service takes at start-up, so it is safe while instances run. Run by the deploy (the migration Job) before the new version takes traffic. Prints what it applied.',
    )
    .addOption(dataDirOption())
    .action(async (options: { dataDir?: string }) => {
      const settings = storeSettingsFrom(options);
      const started = Date.now();
      let database;
      try {
        database = await openDatabase(settings);
        const result = await migrate(database);
        const took = ((Date.now() - started) / 1000).toFixed(1);
        process.stdout.write(result.applied.length === 0 ? `the ${describeStore(settings)} is up to date (migration ${result.current})\n` : `applied ${result.applied.join(', ')} to the ${describeStore(settings)} in ${took} s\n`);
      } catch (error) {
        if (error instanceof EntitleError) throw error;
        throw new EntitleError('ENTITLE_STORE_UNAVAILABLE', `the migrations could not be applied to the ${describeStore(settings)}: ${(error as Error).message}`, [
          { message: 'check DATABASE_URL and that the database is running; a migration that failed was rolled back (or, outside a transaction, runs again from the start next time)' },
        ]);
      } finally {
        await database?.close();
      }
    });
  db.command('check-migrations')
    .description(
      'Refuse migrations that would break the release still running during a deploy: dropping or renaming a table or column, changing a type, a NOT NULL the previous release does not fill, deleting every row (unless marked as the contract step of an expand/contract pair), and index builds or constraint checks that lock a large table. Exit 0 if safe, 1 with every problem listed.',
    )
    .option('--since <version>', 'check only migrations after this one (those already in production were checked when they shipped)', '0')
    .option('--dir <dir>', 'a directory of migrations to check instead of the shipped ones')
    .action(async (options: { since: string; dir?: string }) => {
      const since = Number(options.since);
      if (!Number.isInteger(since) || since < 0) throw new EntitleError('ENTITLE_INPUT_INVALID', '--since must be a migration number', [{ field: '--since', message: 'give a number such as 4' }]);
      const all = options.dir ? await migrationsIn(options.dir) : await shippedMigrations();
      const { checked, problems } = checkMigrations(all, since);
      for (const p of problems) process.stderr.write(`${p.migration}: ${p.rule}: ${p.message}\n    ${p.statement}\n`);
      if (problems.length > 0) {
        process.exitCode = EXIT.failed;
        process.stderr.write(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${new Set(problems.map((p) => p.migration)).size} of ${checked.length} migrations checked\n`);
      } else {
        process.stdout.write(checked.length === 0 ? `no migrations after ${since} to check\n` : `${checked.length} migration${checked.length === 1 ? '' : 's'} safe for a zero-downtime deploy: ${checked.join(', ')}\n`);
      }
    });
}
