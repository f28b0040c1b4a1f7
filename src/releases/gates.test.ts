import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMPTY_STATS, gateSettingsFrom, judge, shadowWindowOf, type Release } from './index.ts';

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
    minShadowMinutes: 60,
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

  it('keeps a passing release in shadow for the minimum window, names what is left, and never delays a failure', () => {
    const started = '2026-12-07T14:00:00.000Z';
    const release = { shadowStartedAt: started, approvals: [] } as unknown as Release;
    const at = (time: string) => shadowWindowOf(release, settings, new Date(time));
    const early = judge(stats(5000, 0), settings, at('2026-12-07T14:22:30Z'));
    assert.equal(early.verdict, 'inconclusive');
    assert.deepEqual(early.reasons, [
      'the shadow window of 60 minutes is not over: 38 minutes left, until 7 December 2026 at 15:00 (UK time)',
    ]);
    assert.equal(judge(stats(5000, 0), settings, at('2026-12-07T15:00:00Z')).verdict, 'pass');
    assert.equal(judge(stats(4990, 10), settings, at('2026-12-07T14:01:00Z')).verdict, 'fail');
    const never = shadowWindowOf({ shadowStartedAt: null, approvals: [] } as unknown as Release, settings, new Date());
    assert.match(
      judge(stats(5000, 0), settings, never).reasons[0]!,
      /has not been in shadow: it must be compared for 60 minutes/,
    );
  });

  it('is waived only by two emergency approvals from two different people', () => {
    const approval = (approver: string) => ({
      kind: 'emergency',
      approver,
      reason: 'the Order changes tonight',
      approvedAt: '',
    });
    const window = (approvers: string[]) =>
      shadowWindowOf(
        { shadowStartedAt: '2026-12-07T14:00:00.000Z', approvals: approvers.map(approval) } as unknown as Release,
        settings,
        new Date('2026-12-07T14:05:00Z'),
      );
    assert.deepEqual(window(['Bob Jones']).waivedBy, []);
    assert.deepEqual(window(['Bob Jones', 'bob  JONES']).waivedBy, [], 'one person under two spellings is one person');
    assert.deepEqual(window(['Bob Jones', 'Carol Smith']).waivedBy, ['Bob Jones', 'Carol Smith']);
    assert.equal(judge(stats(5000, 0), settings, window(['Bob Jones', 'Carol Smith'])).verdict, 'pass');
  });

  it('takes the window from ENTITLE_SHADOW_MIN_MINUTES, else 60 minutes in production and less elsewhere', () => {
    assert.equal(gateSettingsFrom({ ENTITLE_ENVIRONMENT: 'production' }).minShadowMinutes, 60);
    assert.equal(gateSettingsFrom({ ENTITLE_ENVIRONMENT: 'staging' }).minShadowMinutes, 15);
    assert.equal(gateSettingsFrom({}).minShadowMinutes, 0);
    assert.equal(
      gateSettingsFrom({ ENTITLE_ENVIRONMENT: 'production', ENTITLE_SHADOW_MIN_MINUTES: '90' }).minShadowMinutes,
      90,
    );
  });
});
