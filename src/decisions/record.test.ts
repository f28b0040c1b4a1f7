import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson, hashedContent, recordHash, sha256 } from './record.ts';

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

describe('record hash', () => {
  it('of a decision in the log covers its content and not its storage number', () => {
    const logged = recordHash({ ...base, seq: 1, prevHash: null });
    assert.equal(logged, recordHash({ ...base, seq: 99, prevHash: null }));
    assert.equal(logged, sha256(canonicalJson(hashedContent({ ...base, seq: 1, prevHash: null }))));
    assert.notEqual(
      logged,
      recordHash({ ...base, seq: 1, prevHash: null, outcome: { ...base.outcome, amount: 764.93 } }),
    );
  });

  it('of a decision made before the log still covers its place and the record before it, as it always did', () => {
    const old = recordHash({ ...base, seq: 7, prevHash: 'sha256:ef' });
    // The text the old chain hashed: every field, its place and the hash before it, keys sorted (RFC 8785).
    assert.equal(old, sha256(canonicalJson({ ...base, seq: 7, prevHash: 'sha256:ef' })));
    assert.notEqual(old, recordHash({ ...base, seq: 8, prevHash: 'sha256:ef' }));
    assert.notEqual(old, recordHash({ ...base, seq: 7, prevHash: 'sha256:ee' }));
  });

  it('covers the assignment to a release', () => {
    const assignment = { releaseId: '01900000-0000-7000-8000-000000000001', bucket: 42, reason: 'canary' };
    assert.notEqual(
      recordHash({ ...base, seq: 1, prevHash: null, assignment }),
      recordHash({ ...base, seq: 1, prevHash: null, assignment: { ...assignment, releaseId: null } }),
    );
  });
});
