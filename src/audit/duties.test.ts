import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dutyReviews } from './duties.ts';

const key = (maker: string, person: string) => ({
  actor: maker,
  action: 'key.created',
  subject: `key:${person}`,
  evidence: { name: `${person}-key`, person: person.toLowerCase() },
});

describe('separation of duties', () => {
  it('names approvals by a person whose every key the one they approved for made, whatever the spelling', () => {
    const events = [
      key('bootstrap', 'Alice'),
      key('Alice', 'Persona'),
      key('Alice', 'Bob'),
      key('Carol', 'Bob'),
      key('Alice', 'Dan'),
      { actor: 'alice', action: 'release.created', subject: 'R1', evidence: {} },
      { actor: 'Persona', action: 'release.approved', subject: 'R1', evidence: {} },
      { actor: 'Bob', action: 'release.approved', subject: 'R1', evidence: {} },
      {
        actor: 'Dan',
        action: 'flag.changed',
        subject: 'flag:x',
        evidence: { change: 'FC-1', requestedBy: 'ALICE', approvedBy: 'Dan' },
      },
      {
        actor: 'Alice',
        action: 'deploy.recorded',
        subject: 'production',
        evidence: { record: { operator: 'Alice', version: '1.4.2', approvals: ['Persona', 'Bob'] } },
      },
      { actor: 'Alice', action: 'deploy.freeze_overridden', subject: 'w', evidence: { approvers: ['Dan', 'Bob'] } },
      { actor: 'Carol', action: 'release.created', subject: 'R2', evidence: {} },
      { actor: 'Persona', action: 'release.approved', subject: 'R2', evidence: {} },
    ];
    assert.deepEqual(dutyReviews(events), [
      'release R1 by alice: approved by Persona, whose every key alice made',
      'flag change FC-1 asked for by ALICE: approved by Dan, whose every key ALICE made',
      'deploy of 1.4.2 to production by Alice: approved by Persona, whose every key Alice made',
      'freeze override asked for by Alice: approved by Dan, whose every key Alice made',
    ]);
  });
});
