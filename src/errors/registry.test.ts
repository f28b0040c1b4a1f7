import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { renderErrorDocs } from './docs.ts';

describe('error registry', () => {
  it('is documented exactly as generated (run `npm run docs` after changing a code)', async () => {
    const docs = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    assert.equal(docs, renderErrorDocs());
  });
});
