import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testDatabases } from '../testing/index.ts';
import { migrate, shippedMigrations, type Migration } from './index.ts';

const m = (version: number, slug: string, sql: string): Migration => ({
  version,
  name: `${version}-${slug}`,
  sql,
  checksum: slug,
});

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`migrations on ${kind}`, () => {
    it('runs each migration in its own transaction: a failing one leaves nothing of itself and keeps those before it', async () => {
      const test = await testDatabases[kind]();
      const { db } = test;
      try {
        const shipped = await shippedMigrations();
        const good = m(900, 'good', 'CREATE TABLE t900 (id int);');
        const bad = m(901, 'bad', 'CREATE TABLE t901 (id int);\nSELECT no_such_function();');
        await assert.rejects(migrate(db, [...shipped, good, bad]));
        const tables = await db.query<{ name: string }>(
          "SELECT table_name AS name FROM information_schema.tables WHERE table_name IN ('t900', 't901')",
        );
        assert.deepEqual(
          tables.rows.map((r) => r.name),
          ['t900'],
        );
        const versions = await db.query<{ version: number }>(
          'SELECT version FROM schema_migrations WHERE version >= 900',
        );
        assert.deepEqual(
          versions.rows.map((r) => r.version),
          [900],
        );
        // The lock was released: migrating again (fixed) works at once.
        assert.deepEqual(
          (await migrate(db, [...shipped, good, m(901, 'fixed', 'CREATE TABLE t901 (id int);')])).applied,
          ['901-fixed'],
        );
      } finally {
        await test.drop();
      }
    });

    it('builds an index concurrently outside a transaction, and rebuilds one a failed attempt left invalid', async () => {
      const test = await testDatabases[kind]();
      const { db } = test;
      try {
        const shipped = await shippedMigrations();
        const table = m(900, 'table', "CREATE TABLE t (code text); INSERT INTO t VALUES ('a'), ('a');");
        await migrate(db, [...shipped, table]);
        const index = m(
          901,
          'index',
          '-- entitle:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS t_code;\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_code ON t (code);',
        );
        // The duplicate makes the unique build fail half-way, as a real build can.
        await assert.rejects(migrate(db, [...shipped, table, index]));
        await db.query('DELETE FROM t WHERE ctid IN (SELECT ctid FROM t LIMIT 1)');
        const again = await migrate(db, [...shipped, table, index]);
        assert.deepEqual(again.applied, ['901-index']);
        const valid = await db.query<{ valid: boolean }>(
          "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 't_code'::regclass",
        );
        assert.deepEqual(valid.rows, [{ valid: true }]);
        assert.deepEqual((await migrate(db, [...shipped, table, index])).applied, []);
      } finally {
        await test.drop();
      }
    });
  });
}
