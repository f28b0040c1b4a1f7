import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMPTY_STATS, judge } from './index.ts';

describe('gates', () => {
  const stats = (identical: number, unexpected: number, extra: Partial<typeof EMPTY_STATS> = {}) => ({
    ...EMPTY_STATS,
    identical,
    unexpected,
    ...extra,
  });
  const settings = {
    unexpectedRate: 0.001,
    errorRate: 0.001,
    minSample: 1000,
    latencyRatio: 2,
    latencyFloorMicros: 1000,
  };

  it('is inconclusive below the minimum sample, and pauses rather than passes', () => {
    assert.equal(judge(stats(999, 0), settings).verdict, 'inconclusive');
    assert.equal(
      judge(stats(50, 1), settings).verdict,
      'inconclusive',
      'one unexpected in 51 could still be within 0.1% of 1,000',
    );
  });
  it('fails before the minimum sample once the limit is broken whatever comes next', () => {
    const report = judge(stats(10, 2), settings);
    assert.equal(report.verdict, 'fail');
    assert.match(
      report.reasons[0]!,
      /2 of 12 comparisons differ unexpectedly, more than the 0\.1% limit allows in the minimum sample of 1000/,
    );
    assert.equal(judge(stats(10, 0, { candidateError: 2 }), settings).verdict, 'fail');
  });
  it('passes at 0.1% unexpected and fails above it', () => {
    assert.equal(judge(stats(999, 1), settings).verdict, 'pass');
    const report = judge(stats(998, 2), settings);
    assert.equal(report.verdict, 'fail');
    assert.match(report.reasons[0]!, /2 of 1000 comparisons \(0\.2%\) differ unexpectedly; the limit is 0\.1%/);
  });
  it('fails on candidate-only errors and on slow evaluation', () => {
    assert.equal(judge(stats(990, 0, { candidateError: 10 }), settings).verdict, 'fail');
    assert.equal(
      judge(stats(1000, 0, { timed: 10, activeMicros: 100, candidateMicros: 50_000 }), settings).verdict,
      'fail',
    );
    assert.equal(
      judge(stats(1000, 0, { timed: 10, activeMicros: 100, candidateMicros: 300 }), settings).verdict,
      'pass',
    );
  });
  it('does not pass while the A/A check finds noise', () => {
    assert.equal(judge(stats(1000, 0, { aaDifferent: 1 }), settings).verdict, 'inconclusive');
  });
});
