import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { londonToInstant } from './index.ts';

describe('UK time', () => {
  it('reads effective dates in Europe/London, in summer and winter', () => {
    assert.equal(londonToInstant('2026-04-06'), '2026-04-05T23:00:00.000Z');
    assert.equal(londonToInstant('2026-01-10T09:30'), '2026-01-10T09:30:00.000Z');
    assert.throws(() => londonToInstant('6/4/2026', '--effective'), /--effective is not a date/);
    assert.throws(() => londonToInstant('2026-02-30'), /not a real date/);
  });
});
