import type { Command } from 'commander';
import {
  checkStatements,
  PACKAGE_VERSION,
  preparable,
  readReleaseQueries,
  RELEASE_QUERIES_FILE,
  writeReleaseQueries,
} from '../../deploys/index.ts';
import { EntitleError } from '../../errors/index.ts';
import { createKey, revokeKey } from '../../keys/index.ts';
import { smoke } from '../../monitoring/index.ts';
import { startService } from '../../service/index.ts';
import {
  checkMigrations,
  describeStore,
  migrate,
  openDatabase,
  readMigrations,
  shippedMigrations,
  storeSettingsFrom,
  type Migration,
} from '../../store/index.ts';
import { openPostgres, recordingStatements, type Database } from '../../store/index.ts';
import { EXIT } from '../exit.ts';
import { dataDirOption } from '../options.ts';
import { jsonOption, printJson } from '../output.ts';
import { BUNDLED_RULESETS } from '../paths.ts';

/**
 * The statements this release's service sends, recorded while it runs the citizen journeys, the
 * status page, the lists operators read, and its background work (release and incident watches,
 * chain verification) for a few seconds.
 */
async function recordServiceStatements(databaseUrl: string): Promise<string[]> {
  let recorded: Set<string> | undefined;
  const service = await startService({
    store: { databaseUrl },
    rulesDir: BUNDLED_RULESETS,
    host: '127.0.0.1',
    port: 0,
    shutdownGraceMs: 0,
    logLevel: 'silent',
    chainCheckMs: 500,
    incidents: { watchMs: 500, env: {} },
    observeDatabase: (db: Database) => {
      const recording = recordingStatements(db);
      recorded = recording.statements;
      return recording.db;
    },
  });
  const name = `record-queries-${process.pid}`;
  try {
    const { key } = await createKey(service.db, name, ['assessor', 'caseworker', 'operator']);
    const report = await smoke(service.address, key);
    if (!report.ok)
      throw new EntitleError('ENTITLE_INTERNAL', 'the citizen journeys failed while recording the statements', [
        {
          message: report.steps
            .filter((s) => !s.ok)
            .map((s) => `${s.step}: ${s.reason ?? ''}`)
            .join('; '),
        },
      ]);
    for (const path of [
      '/status',
      '/status.json',
      '/v1/releases',
      '/v1/incidents',
      '/v1/incidents?open=true',
      '/version',
      '/ready',
    ]) {
      await fetch(`${service.address}${path}`, { headers: { authorization: `Bearer ${key}` } });
    }
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  } finally {
    await service.stop();
  }
  const cleanup = openPostgres({ connectionString: databaseUrl, maxConnections: 1 });
  await revokeKey(cleanup, name).finally(() => cleanup.close());
  return preparable(recorded ?? []);
}

async function migrationsIn(dir: string): Promise<Migration[]> {
  try {
    return await readMigrations(dir);
  } catch {
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the migrations directory could not be read', [
      { field: '--dir', message: 'give a directory of NNN-name.sql files' },
    ]);
  }
}

export function registerDb(program: Command): void {
  const db = program
    .command('db')
    .description('Database schema: migrations, and their safety for zero-downtime deploys.');
  db.command('migrate')
    .description(
      'Apply the migrations this release ships that the database does not have yet, under the same lock the service takes at start-up, so it is safe while instances run. Run by the deploy (the migration Job) before the new version takes traffic. Prints what it applied.',
    )
    .addOption(dataDirOption())
    .addOption(jsonOption('the migrations applied and the current one'))
    .action(async (options: { dataDir?: string; json?: boolean }) => {
      const settings = storeSettingsFrom(options);
      const started = Date.now();
      let database;
      try {
        database = await openDatabase(settings);
        const result = await migrate(database);
        const took = ((Date.now() - started) / 1000).toFixed(1);
        if (options.json) return printJson({ applied: result.applied, current: result.current, seconds: Number(took) });
        process.stdout.write(
          result.applied.length === 0
            ? `the ${describeStore(settings)} is up to date (migration ${result.current})\n`
            : `applied ${result.applied.join(', ')} to the ${describeStore(settings)} in ${took} s\n`,
        );
      } catch (error) {
        if (error instanceof EntitleError) throw error;
        throw new EntitleError(
          'ENTITLE_STORE_UNAVAILABLE',
          `the migrations could not be applied to the ${describeStore(settings)}: ${(error as Error).message}`,
          [
            {
              message:
                'check DATABASE_URL and that the database is running; a migration that failed was rolled back (or, outside a transaction, runs again from the start next time)',
            },
          ],
        );
      } finally {
        await database?.close();
      }
    });
  db.command('record-queries')
    .description(
      `Record the statements this release's service sends (running its journeys against the PostgreSQL database in DATABASE_URL: use a scratch one), so the next release can check them against its schema. Run when a release is cut; writes ${RELEASE_QUERIES_FILE}.`,
    )
    .option('--out <file>', 'where to write them', RELEASE_QUERIES_FILE)
    .addOption(jsonOption('what was recorded and where'))
    .action(async (options: { out: string; json?: boolean }) => {
      const databaseUrl = process.env.DATABASE_URL;
      if (!databaseUrl)
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'recording needs a PostgreSQL database', [
          { field: 'DATABASE_URL', message: 'set DATABASE_URL to a scratch PostgreSQL database' },
        ]);
      const statements = await recordServiceStatements(databaseUrl);
      const migration = Math.max(...(await shippedMigrations()).map((m) => m.version));
      await writeReleaseQueries(options.out, { release: PACKAGE_VERSION, migration, statements });
      if (options.json)
        return printJson({ release: PACKAGE_VERSION, migration, statements: statements.length, file: options.out });
      process.stdout.write(
        `recorded ${statements.length} statements of release ${PACKAGE_VERSION} (migration ${migration}) in ${options.out}\n`,
      );
    });

  db.command('check-queries')
    .description(
      `Prepare every statement the previous release sends (${RELEASE_QUERIES_FILE}) against the database in DATABASE_URL, migrated to this release's schema: the previous release keeps running there during a rolling deploy. Exit 0 if all resolve, 1 with each one the schema refuses.`,
    )
    .option('--queries <file>', "the previous release's statements", RELEASE_QUERIES_FILE)
    .addOption(dataDirOption())
    .addOption(jsonOption('the statements refused'))
    .action(async (options: { queries: string; dataDir?: string; json?: boolean }) => {
      const previous = await readReleaseQueries(options.queries).catch(() => {
        throw new EntitleError('ENTITLE_INPUT_INVALID', "the previous release's statements could not be read", [
          { field: '--queries', message: 'give the file "entitle db record-queries" wrote' },
        ]);
      });
      const settings = storeSettingsFrom(options);
      const database = await openDatabase(settings);
      try {
        await migrate(database);
        const problems = await checkStatements(database, previous.statements);
        if (problems.length > 0) process.exitCode = EXIT.failed;
        if (options.json)
          return printJson({
            ok: problems.length === 0,
            release: previous.release,
            statements: previous.statements.length,
            refused: problems,
          });
        for (const p of problems) process.stderr.write(`refused: ${p.error}\n    ${p.statement.slice(0, 200)}\n`);
        if (problems.length > 0) {
          process.stderr.write(
            `${problems.length} of ${previous.statements.length} statements of release ${previous.release} would fail on this schema\n`,
          );
        } else {
          process.stdout.write(
            `all ${previous.statements.length} statements of release ${previous.release} work on this schema\n`,
          );
        }
      } finally {
        await database.close();
      }
    });

  db.command('check-migrations')
    .description(
      'Refuse migrations that would break the release still running during a deploy: dropping or renaming a table or column, changing a type, a NOT NULL the previous release does not fill, deleting every row (unless marked as the contract step of an expand/contract pair), and index builds or constraint checks that lock a large table. Exit 0 if safe, 1 with every problem listed.',
    )
    .option(
      '--since <version>',
      'check only migrations after this one (those already in production were checked when they shipped)',
      '0',
    )
    .option('--dir <dir>', 'a directory of migrations to check instead of the shipped ones')
    .addOption(jsonOption('the migrations checked and every problem'))
    .action(async (options: { since: string; dir?: string; json?: boolean }) => {
      const since = Number(options.since);
      if (!Number.isInteger(since) || since < 0)
        throw new EntitleError('ENTITLE_INPUT_INVALID', '--since must be a migration number', [
          { field: '--since', message: 'give a number such as 4' },
        ]);
      const all = options.dir ? await migrationsIn(options.dir) : await shippedMigrations();
      const { checked, problems } = checkMigrations(all, since);
      if (problems.length > 0) process.exitCode = EXIT.failed;
      if (options.json) return printJson({ ok: problems.length === 0, since, checked, problems });
      for (const p of problems) process.stderr.write(`${p.migration}: ${p.rule}: ${p.message}\n    ${p.statement}\n`);
      if (problems.length > 0) {
        process.stderr.write(
          `${problems.length} problem${problems.length === 1 ? '' : 's'} in ${new Set(problems.map((p) => p.migration)).size} of ${checked.length} migrations checked\n`,
        );
      } else {
        process.stdout.write(
          checked.length === 0
            ? `no migrations after ${since} to check\n`
            : `${checked.length} migration${checked.length === 1 ? '' : 's'} safe for a zero-downtime deploy: ${checked.join(', ')}\n`,
        );
      }
    });
}
