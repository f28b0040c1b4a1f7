import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ageOn, formatIsoDate, formatLongDate, parseIsoDate } from './dates.ts';

describe('dates', () => {
  it('reads strict ISO calendar dates only', () => {
    assert.equal(parseIsoDate('2017-04-06'), 20170406);
    assert.equal(parseIsoDate('2024-02-29'), 20240229);
    for (const bad of [
      '2025-02-29',
      '1900-02-29',
      '2025-13-01',
      '2025-04-31',
      '2025-4-06',
      '06/04/2025',
      '2025-04-06T00:00',
      20250406,
      null,
      '',
    ]) {
      assert.equal(parseIsoDate(bad), undefined, String(bad));
    }
    assert.equal(parseIsoDate('2000-02-29'), 20000229);
  });

  it('formats dates', () => {
    assert.equal(formatIsoDate(20170406), '2017-04-06');
    assert.equal(formatLongDate(20170406), '6 April 2017');
  });

  it('counts whole years of age, birthdays included on the day', () => {
    assert.equal(ageOn(20000601, 20250601), 25);
    assert.equal(ageOn(20000602, 20250601), 24);
    assert.equal(ageOn(19951231, 20250101), 29);
  });

  it('gives someone born on 29 February their new age on 1 March in a common year', () => {
    assert.equal(ageOn(20000229, 20250228), 24);
    assert.equal(ageOn(20000229, 20250301), 25);
    assert.equal(ageOn(20000229, 20240229), 24);
  });
});
