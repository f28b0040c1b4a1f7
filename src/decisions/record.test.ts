import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordHash, recordHashFrom, recordHashPrefix } from './record.ts';

describe('record hash', () => {
  it('built in two steps equals the hash of the whole canonical record', () => {
    const base = {
      id: '01a200bd-b44a-713a-a393-827e74284135',
      benefit: 'universal-credit',
      applicationId: 'APP/1 "quoted" é',
      assessmentDate: '2025-06-01',
      ruleset: { id: 'uk-universal-credit', hash: 'sha256:abc' },
      engineVersion: '0.1.0',
      inputsDigest: 'sha256:def',
      outcome: { entitled: true, amount: 764.92, period: 'month', elements: { b: 1, a: 0 }, details: { z: false } },
      explanation: ['Standard allowance £628.10: "you" are…', 'line\nbreak'],
      createdAt: '2026-11-22T01:00:00.123Z',
    };
    for (const [seq, prevHash] of [
      [1, 'sha256:0000'],
      [987654, 'sha256:ffff'],
    ] as const) {
      assert.equal(recordHashFrom(recordHashPrefix(base), seq, prevHash), recordHash({ ...base, seq, prevHash }));
    }
  });
});

describe('record hash with a release assignment', () => {
  it('covers the assignment, computed in two steps as in one', () => {
    const base = {
      id: '01900000-0000-7000-8000-000000000000',
      benefit: 'universal-credit',
      applicationId: 'APP-1',
      assessmentDate: '2025-06-01',
      ruleset: { id: 'r', hash: 'sha256:ab' },
      engineVersion: '0.1.0',
      inputsDigest: 'sha256:cd',
      outcome: { amount: 1 },
      explanation: ['x'],
      createdAt: '2026-11-22T00:00:00.000Z',
    };
    const assigned = {
      ...base,
      assignment: {
        releaseId: '01900000-0000-7000-8000-000000000001',
        bucket: 42,
        reason: 'canary: bucket 42 is below 500 (5%)',
      },
    };
    const whole = recordHash({ ...assigned, seq: 7, prevHash: 'sha256:ef' });
    assert.equal(recordHashFrom(recordHashPrefix(assigned), 7, 'sha256:ef'), whole);
    assert.notEqual(recordHash({ ...base, seq: 7, prevHash: 'sha256:ef' }), whole);
  });
});
