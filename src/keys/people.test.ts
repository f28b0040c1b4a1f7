import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testDatabases } from '../testing/index.ts';
import { createKey, KeyVerifier, listKeys } from './keys.ts';
import { checkPersonName, personHandle, samePerson } from './people.ts';

describe('people', () => {
  it('are one person however their name is spelt', () => {
    for (const spelling of ['Alice Smith', ' alice   SMITH ', 'ALICE\tsmith', 'Ａｌｉｃｅ Smith', 'Ali\u200bce Smith'])
      assert.equal(personHandle(spelling), 'alice smith', spelling);
    assert.ok(samePerson('Alice Smith', 'alice smith'));
    assert.ok(!samePerson('Alice Smith', 'Alice Smyth'));
  });

  it('refuse a name that is not a name, naming the field', () => {
    for (const bad of ['', '   ', '<script>', 'a\u0000b', 'x'.repeat(101)])
      assert.throws(() => checkPersonName(bad), /cannot be named so/);
    assert.equal(checkPersonName('  Siân   O’Brien-Jones '), 'Siân O’Brien-Jones');
  });

  it('hold several keys as one person, known by the first spelling of their name', async () => {
    const t = await testDatabases.pglite();
    try {
      const first = await createKey(t.db, 'alice-laptop', ['policy-author'], 'operator', 'Alice Smith');
      const second = await createKey(t.db, 'alice-phone', ['approver'], 'operator', '  alice SMITH');
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
