import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkMigrations, shippedMigrations, type Migration } from './index.ts';

const m = (version: number, sql: string): Migration => ({
  version,
  name: `${String(version).padStart(3, '0')}-test`,
  sql,
  checksum: '',
});
const rules = (sql: string, earlier: Migration[] = [m(1, 'CREATE TABLE people (id int, name text);')]) =>
  checkMigrations([...earlier, m(9, sql)], 8).problems.map((p) => p.rule);

describe('migration safety', () => {
  it('lets expand-only migrations through', () => {
    assert.deepEqual(
      rules(`
      CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL);
      CREATE INDEX notes_body ON notes (body);
      ALTER TABLE people ADD COLUMN email text;
      ALTER TABLE people ADD COLUMN active boolean NOT NULL DEFAULT true;
      ALTER TABLE people ALTER COLUMN name DROP NOT NULL;
      CREATE INDEX people_name ON people (name);
      ALTER TABLE decisions ADD CONSTRAINT d_check CHECK (seq > 0) NOT VALID;
      INSERT INTO people (id, name) VALUES (1, 'a;b');
    `),
      [],
    );
  });

  it('refuses what would break the release still running, each for its reason', () => {
    assert.deepEqual(rules('DROP TABLE people;'), ['drop']);
    assert.deepEqual(rules('ALTER TABLE people DROP COLUMN name;'), ['drop']);
    assert.deepEqual(rules('ALTER TABLE people DROP name;'), ['drop']);
    assert.deepEqual(rules('ALTER TABLE people RENAME COLUMN name TO full_name;'), ['rename']);
    assert.deepEqual(rules('ALTER TABLE people RENAME TO persons;'), ['rename']);
    assert.deepEqual(rules('ALTER TABLE people ALTER COLUMN id TYPE bigint;'), ['type-change']);
    assert.deepEqual(rules('ALTER TABLE people ALTER COLUMN name SET NOT NULL;'), ['not-null']);
    assert.deepEqual(rules('ALTER TABLE people ADD COLUMN email text NOT NULL;'), ['not-null']);
    assert.deepEqual(rules('DELETE FROM people;'), ['truncate']);
    assert.deepEqual(rules('TRUNCATE people;'), ['truncate']);
    assert.deepEqual(rules('CREATE INDEX decisions_benefit ON decisions (benefit);'), ['large-table-lock']);
    assert.deepEqual(rules('CREATE UNIQUE INDEX IF NOT EXISTS x ON audit_events (id);'), ['large-table-lock']);
    assert.deepEqual(rules('ALTER TABLE decisions ADD CONSTRAINT c CHECK (seq > 0);'), ['large-table-lock']);
  });

  it('allows a contract step naming its earlier expand step, and a marked lock; refuses a marker naming nothing', () => {
    assert.deepEqual(
      rules(
        '-- entitle:contract expand=001 (nothing reads name since release 1.5)\nALTER TABLE people DROP COLUMN name;',
      ),
      [],
    );
    assert.deepEqual(rules('-- entitle:contract expand=007\nALTER TABLE people DROP COLUMN name;'), [
      'contract-marker',
    ]);
    assert.deepEqual(
      rules(
        '-- entitle:locks-large-table (run at 3am with the service drained)\nCREATE INDEX d ON decisions (benefit);',
      ),
      [],
    );
  });

  it('runs concurrent index builds only outside a transaction, dropping first so a failed build is redone', () => {
    const outside = '-- entitle:no-transaction\n';
    assert.deepEqual(
      rules(
        `${outside}DROP INDEX CONCURRENTLY IF EXISTS decisions_x;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS decisions_x ON decisions (benefit);`,
      ),
      [],
    );
    assert.deepEqual(rules('CREATE INDEX CONCURRENTLY decisions_x ON decisions (benefit);'), ['transaction']);
    assert.deepEqual(rules(`${outside}CREATE INDEX CONCURRENTLY decisions_x ON decisions (benefit);`), ['transaction']);
    assert.deepEqual(
      rules(
        `${outside}DROP INDEX CONCURRENTLY IF EXISTS x;\nCREATE INDEX CONCURRENTLY x ON decisions (benefit);\nALTER TABLE people ADD COLUMN email text;`,
      ),
      ['transaction'],
    );
  });

  it('finds what the shipped migrations did, and passes those after the check existed', async () => {
    const shipped = await shippedMigrations();
    // 002 and 003 locked decisions while it was small; they shipped before this check.
    assert.deepEqual(
      checkMigrations(shipped).problems.map((p) => `${p.migration} ${p.rule}`),
      ['002-decision-seq-positive large-table-lock', '003-releases large-table-lock'],
    );
    assert.deepEqual(checkMigrations(shipped, 4).problems, []);
  });
});
