import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EntitleError } from '../errors/index.ts';
import { testDatabases } from '../testing/index.ts';
import { createKey, KeyVerifier, listKeys } from './keys.ts';
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
