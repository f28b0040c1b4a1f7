import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMoney, formatRate, mulRate, parseRate, poundsToPence } from './money.ts';

describe('money', () => {
  it('reads pounds exactly, from numbers and from text', () => {
    assert.equal(poundsToPence(316.98), 31698);
    assert.equal(poundsToPence('1031.88'), 103188);
    assert.equal(poundsToPence(0.1), 10);
    assert.equal(poundsToPence(1500), 150000);
    assert.equal(poundsToPence(-4.35), -435);
  });

  it('refuses a third decimal place and non-numbers', () => {
    assert.equal(poundsToPence(100.001), undefined);
    assert.equal(poundsToPence('12,00'), undefined);
    assert.equal(poundsToPence(Number.NaN), undefined);
    assert.equal(poundsToPence(1e21), undefined);
  });

  it('reads rates as percentages or fractions', () => {
    assert.equal(parseRate('55%'), 550_000);
    assert.equal(parseRate(0.85), 850_000);
    assert.equal(parseRate('1%'), 10_000);
    assert.equal(parseRate('12.5%'), 125_000);
  });

  it('rounds a fraction of a penny to the nearest, a half upwards (UC Regs reg. 6)', () => {
    assert.equal(mulRate(1, 550_000), 1); // 0.55p
    assert.equal(mulRate(2, 550_000), 1); // 1.1p
    assert.equal(mulRate(10, 550_000), 6); // 5.5p
    assert.equal(mulRate(9, 550_000), 5); // 4.95p
    assert.equal(mulRate(81600, 550_000), 44880);
    assert.equal(mulRate(-10, 550_000), -6);
  });

  it('stays exact beyond the safe-integer range of the product', () => {
    // 90,000,000,000 pence x 0.999999 does not fit in 2^53 as a product of integers.
    assert.equal(mulRate(9_000_000_000_000, 999_999), 8_999_991_000_000);
  });

  it('formats amounts and rates for people', () => {
    assert.equal(formatMoney(121372), '£1,213.72');
    assert.equal(formatMoney(5), '£0.05');
    assert.equal(formatMoney(100000000), '£1,000,000.00');
    assert.equal(formatMoney(-17072), '-£170.72');
    assert.equal(formatRate(550_000), '55%');
    assert.equal(formatRate(125_000), '12.5%');
  });
});
