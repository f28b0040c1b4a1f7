import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EntitleError } from '../errors/index.ts';
import { isStorableText, parseJsonBody } from './request-guard.ts';

const refusal = (text: string) => {
  try {
    parseJsonBody(text);
  } catch (error) {
    assert.ok(error instanceof EntitleError);
    return error.problems[0];
  }
  assert.fail(`accepted: ${text}`);
};

describe('the request guard', () => {
  it('reads any storable JSON exactly as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value);
        fc.pre(isStorableText(text) && !text.includes('__proto__'));
        assert.deepEqual(parseJsonBody(text), JSON.parse(text));
        assert.deepEqual(parseJsonBody(JSON.stringify(value, null, 2)), JSON.parse(text));
      }),
      { numRuns: 2_000 },
    );
  });

  it('finds a key given twice, however it is spaced, and not a quote and colon inside a string', () => {
    assert.equal(refusal('{"a" : 1, "b": {"c": 1, "c"\n:2}}')?.field, 'b.c');
    assert.equal(refusal('[{"x":1},{"y":1,"y":1}]')?.field, '[1].y');
    assert.deepEqual(parseJsonBody('{"a":"x\\":y","b":"\\":"}'), { a: 'x":y', b: '":' });
  });

  it('refuses nesting past 32 levels, NUL and half surrogate pairs, naming where', () => {
    assert.match(refusal(`{"a":${'['.repeat(40)}${']'.repeat(40)}}`)?.message ?? '', /32 levels/);
    assert.equal(refusal('{"name":"a\\u0000"}')?.field, 'name');
    assert.equal(refusal('{"list":["ok","\\udc00"]}')?.field, 'list[1]');
    assert.equal(refusal('{"__proto__":{"x":1}}')?.message, 'remove the field named __proto__');
    assert.equal(refusal('{"a":')?.field, 'body');
  });
});
