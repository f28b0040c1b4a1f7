import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { renderFunctionDocs } from './docs.ts';

describe('rule language docs', () => {
  it('list every built-in function exactly as generated (run `npm run docs`)', async () => {
    assert.equal(
      await readFile(new URL('../../../docs/rule-functions.md', import.meta.url), 'utf8'),
      renderFunctionDocs(),
    );
  });
});
