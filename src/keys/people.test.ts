import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EntitleError } from '../errors/index.ts';
import { NO_CHANGES } from '../comparison/index.ts';
import { createRelease, rejectRelease } from '../releases/index.ts';
import { compile, testDatabases, ucBundle } from '../testing/index.ts';
import { verifyControls, appendAuditEvent } from '../audit/index.ts';
import { assignHolder, createKey, KeyVerifier, listKeys } from './keys.ts';
import { checkPersonName, personHandle, samePerson } from '../people/index.ts';

describe('people', () => {
  it('are one person however their name is spelt', () => {
    for (const spelling of [
      'Alice Smith',
      ' alice   SMITH ',
      'ALICE\tsmith',
      'Ａｌｉｃｅ Smith',
      'Ali\u200bce Smith',
      'Ali\u034fce Smith',
      'Alice\u2010Smith',
      'Alicé Smith',
    ])
      assert.equal(personHandle(spelling), 'alice smith', spelling);
    assert.equal(personHandle('Siân O’Brien-Jones'), personHandle("sian o'brien jones"));
    assert.equal(personHandle('Strauß'), personHandle('STRAUSS'));
    assert.ok(samePerson('Alice Smith', 'alice smith'));
    assert.ok(!samePerson('Alice Smith', 'Alice Smyth'));
  });

  it('refuse a name that is not a name, naming the field', () => {
    // The last: a Cyrillic А that would make a second Alice who looks the same.
    for (const bad of ['', '   ', '<script>', 'a\u0000b', 'x'.repeat(101), '\u0410lice Smith'])
      assert.throws(() => checkPersonName(bad), /cannot be named so/);
    assert.equal(checkPersonName('  Siân   O’Brien-Jones '), 'Siân O’Brien-Jones');
  });

  it('hold several keys as one person, known by the first spelling of their name', async () => {
    const t = await testDatabases.pglite();
    try {
      const first = await createKey(t.db, 'alice-laptop', ['policy-author'], 'operator', 'Alice Smith');
      const sameName = createKey(t.db, 'alice-phone', ['approver'], 'operator', '  alice SMITH');
      await assert.rejects(sameName, (error: EntitleError) =>
        /Alice Smith holds keys already: if this key is theirs too, say so/.test(error.problems[0]!.message),
      );
      const second = await createKey(t.db, 'alice-phone', ['approver'], 'operator', '  alice SMITH', {
        existingPerson: true,
      });
      await assert.rejects(
        createKey(t.db, 'bob-laptop', ['approver'], 'operator', 'Bob Jones', { existingPerson: true }),
        (error: EntitleError) => /no one named Bob Jones holds a key yet/.test(error.problems[0]!.message),
      );
      const service = await createKey(t.db, 'front-end-1', ['assessor']);
      assert.equal(first.apiKey.person, 'Alice Smith');
      assert.equal(second.apiKey.person, 'Alice Smith', 'the second key belongs to the same person');
      assert.equal(service.apiKey.person, 'front-end-1', "a service's key stands for itself");
      const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM people');
      assert.equal(rows[0]!.n, 2);
      const verifier = new KeyVerifier(t.db);
      assert.equal((await verifier.verify(second.key))?.person, 'Alice Smith');
      assert.deepEqual(
        (await listKeys(t.db)).map((k) => `${k.name}: ${k.person}`),
        ['alice-laptop: Alice Smith', 'alice-phone: Alice Smith', 'front-end-1: front-end-1'],
      );
      await assert.rejects(createKey(t.db, 'bad', ['approver'], 'operator', '<b>'), /cannot be created/);
    } finally {
      await t.drop();
    }
  });
});

describe('a key made before keys belonged to people', () => {
  it('acts as its own name until an admin gives it its holder, once, in the audit chain', async () => {
    const t = await testDatabases.pglite();
    try {
      // As the code before migration 009 made it: no person, and no person in its event.
      await t.db.transaction(async (tx) => {
        await tx.query(
          "INSERT INTO api_keys (id, name, key_hash, roles, created_at) VALUES ('01a2a000-0000-7000-8000-000000000001', 'old-laptop', 'abc', '{approver}', '2026-01-01T00:00:00.000Z')",
        );
        await appendAuditEvent(tx, {
          actor: 'operator',
          action: 'key.created',
          subject: 'key:01a2a000-0000-7000-8000-000000000001',
          reason: 'key old-laptop created',
          evidence: { name: 'old-laptop', roles: ['approver'], keyHash: 'abc' },
        });
      });
      await createKey(t.db, 'bob-laptop', ['approver'], 'Ann Admin', 'Bob Jones');
      assert.equal((await listKeys(t.db)).find((k) => k.name === 'old-laptop')!.person, 'old-laptop');

      // A release it wrote as old-laptop, not yet decided: its holder waits, or could approve it as Bob.
      const release = await createRelease(t.db, {
        program: compile(await ucBundle()).program,
        author: 'OLD-laptop',
        summary: 'a release written under the key name',
        effectiveAt: '2026-04-06T00:00:00.000Z',
        expectations: NO_CHANGES,
        golden: { total: 1, failed: [] },
      });
      await assert.rejects(
        assignHolder(t.db, 'old-laptop', 'Bob Jones', 'Ann Admin', { existingPerson: true }),
        (error: EntitleError) =>
          error.code === 'ENTITLE_KEY_HOLDER_REFUSED' &&
          new RegExp(`once release ${release.id} is decided`).test(error.problems[0]!.message),
      );
      await rejectRelease(t.db, release.id, 'Ann Admin', 'written under a key name');
      await assert.rejects(assignHolder(t.db, 'old-laptop', 'bob jones', 'Ann Admin'), (error: EntitleError) =>
        /Bob Jones holds keys already/.test(error.problems[0]!.message),
      );
      const held = await assignHolder(t.db, 'old-laptop', 'bob jones', 'Ann Admin', { existingPerson: true });
      assert.equal(held.person, 'Bob Jones', 'the key now acts as the person who holds it');
      await assert.rejects(
        assignHolder(t.db, 'old-laptop', 'Carol', 'Ann Admin'),
        /has a holder already/,
        'a key is never handed from one person to another',
      );
      await assert.rejects(assignHolder(t.db, 'bob-laptop', 'Carol', 'Ann Admin'), /has a holder already/);
      await assert.rejects(assignHolder(t.db, 'no-such-key', 'Carol', 'Ann Admin'), /no active key named no-such-key/);

      const controls = await verifyControls(t.db);
      assert.deepEqual(controls.problems, [], 'the assignment is in the audit chain');
      await t.db.query("UPDATE api_keys SET person_id = NULL WHERE name = 'old-laptop'");
      assert.match(
        (await verifyControls(t.db)).problems.join('\n'),
        /key old-laptop: its holder differ/,
        'and taking it back by SQL is caught',
      );
    } finally {
      await t.drop();
    }
  });
});
