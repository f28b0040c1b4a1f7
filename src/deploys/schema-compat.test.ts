import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { migrate, shippedMigrations } from '../store/index.ts';
import { projectRoot, runEntitle, testDatabases } from '../testing/index.ts';
import { checkStatements, readReleaseQueries, RELEASE_QUERIES_FILE } from './index.ts';

describe("the previous release's queries on the new schema", () => {
  it('every statement the previous release sends still resolves on a database migrated to this release', async () => {
    const previous = await readReleaseQueries(join(projectRoot, RELEASE_QUERIES_FILE));
    assert.ok(previous.statements.length >= 20, "the recording holds the service's statements");
    const database = await testDatabases.postgres();
    try {
      assert.deepEqual(await checkStatements(database.db, previous.statements), []);
      const cli = await runEntitle(['db', 'check-queries'], { DATABASE_URL: database.url! });
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(
        cli.stdout,
        new RegExp(
          `all ${previous.statements.length} statements of release ${previous.release.replaceAll('.', '\\.')} work on this schema`,
        ),
      );
    } finally {
      await database.drop();
    }
  });

  it('names each statement a destructive migration would break, with the reason', async () => {
    const previous = await readReleaseQueries(join(projectRoot, RELEASE_QUERIES_FILE));
    const database = await testDatabases.postgres();
    try {
      const contract = {
        version: 900,
        name: '900-drop-read-key-name',
        checksum: 'x',
        sql: 'ALTER TABLE decision_reads DROP COLUMN key_name; ALTER TABLE releases RENAME TO rule_releases;',
      };
      await migrate(database.db, [...(await shippedMigrations()), contract]);
      const problems = await checkStatements(database.db, previous.statements);
      assert.ok(
        problems.some(
          (p) =>
            p.statement.startsWith('INSERT INTO decision_reads') &&
            /column "key_name" of relation "decision_reads" does not exist/.test(p.error),
        ),
      );
      assert.ok(
        problems.some(
          (p) => p.statement.includes('FROM releases') && /relation "releases" does not exist/.test(p.error),
        ),
      );
      assert.ok(
        problems.every((p) => p.statement.includes('decision_reads') || p.statement.includes('releases')),
        'and nothing else',
      );
    } finally {
      await database.drop();
    }
  });
});
