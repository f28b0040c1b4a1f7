import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUCKETS, canaryBucket, inShadowShare } from './routing.ts';

const RELEASE = '01900000-0000-7000-8000-000000000001';
const applications = Array.from({ length: 20_000 }, (_, i) => `APP-${i}`);

describe('canary and shadow selection', () => {
  it('gives each application a stable bucket, spread evenly over the canary order', () => {
    assert.equal(canaryBucket(RELEASE, 'APP-1'), canaryBucket(RELEASE, 'APP-1'));
    const buckets = applications.map((a) => canaryBucket(RELEASE, a));
    assert.ok(buckets.every((b) => Number.isInteger(b) && b >= 0 && b < BUCKETS));
    const inFivePercent = buckets.filter((b) => b < 500).length / buckets.length;
    assert.ok(Math.abs(inFivePercent - 0.05) < 0.01, `${inFivePercent} in a 5% canary`);
    // Another release orders applications differently, so the same people are not always first.
    const other = applications.map((a) => canaryBucket('01900000-0000-7000-8000-000000000002', a));
    assert.ok(other.filter((b, i) => b < 500 === buckets[i]! < 500).length < applications.length);
  });

  it('only adds applications as the canary grows', () => {
    const at = (basisPoints: number) => new Set(applications.filter((a) => canaryBucket(RELEASE, a) < basisPoints));
    const small = at(500);
    const large = at(2_000);
    assert.ok([...small].every((a) => large.has(a)));
    assert.ok(large.size > small.size);
  });

  it('compares the configured share, chosen independently of the canary', () => {
    const share = applications.filter((a) => inShadowShare(RELEASE, a, 250_000)).length / applications.length;
    assert.ok(Math.abs(share - 0.25) < 0.015, `${share} compared at a 25% share`);
    assert.equal(applications.filter((a) => inShadowShare(RELEASE, a, 1_000_000)).length, applications.length);
    assert.equal(applications.filter((a) => inShadowShare(RELEASE, a, 0)).length, 0);
  });
});
