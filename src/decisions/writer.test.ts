import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openPglite, migrate, DatabaseDeadline, type Database } from '../store/index.ts';
import { canaryInput, compile, decisionDraft, ucBundle } from '../testing/index.ts';
import { unacknowledgedDecisions } from './repository.ts';
import { DecisionInDoubt, DecisionWriter } from './writer.ts';

/**
 * The writer's deadlines, on a database whose transactions can be held open: a write still queued
 * at its deadline is refused as not recorded, one in a transaction is answered in doubt, and one
 * that then commits is noted once and counted once.
 */
async function heldDatabase() {
  const inner = await openPglite(undefined);
  await migrate(inner);
  let hold: Promise<void> | undefined;
  let release = () => {};
  const db: Database = {
    ...inner,
    transaction: (work, call) =>
      inner.transaction(async (tx) => {
        const result = await work(tx);
        await hold; // between the work and the commit, as a frozen network would hold it
        return result;
      }, call),
  };
  return {
    db,
    inner,
    holdCommits() {
      hold = new Promise((resolve) => (release = () => resolve()));
    },
    releaseCommits() {
      hold = undefined;
      release();
    },
  };
}

describe('the decision writer under deadlines', () => {
  it('answers a write in a held transaction in doubt, refuses one queued behind it, and notes the first when it commits', async () => {
    const held = await heldDatabase();
    const counted: string[] = [];
    const writer = new DecisionWriter(
      held.db,
      { batch: () => undefined, unacknowledged: (reason, n) => counted.push(`${reason}:${n}`) },
      { deadlineMs: 200, recheckMs: 50 },
    );
    try {
      const bundle = await ucBundle();
      const ruleSet = compile(bundle);
      const draft = () => decisionDraft(ruleSet, canaryInput);
      held.holdCommits();
      const first = draft();
      const inFlight = writer.write(first, bundle);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const queued = writer.write(draft(), bundle);
      await assert.rejects(inFlight, (error) => error instanceof DecisionInDoubt && error.decisionId === first.id);
      await assert.rejects(queued, (error) => error instanceof DatabaseDeadline);
      held.releaseCommits();
      let listed = await unacknowledgedDecisions(held.inner, '1970-01-01T00:00:00.000Z', 10);
      for (let i = 0; i < 40 && listed.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        listed = await unacknowledgedDecisions(held.inner, '1970-01-01T00:00:00.000Z', 10);
      }
      assert.deepEqual(
        listed.map((d) => [d.decisionId, d.reason]),
        [[first.id, 'deadline']],
      );
      writer.acknowledgementLost(first.id);
      await writer.close();
      assert.deepEqual(counted, ['deadline:1'], 'counted once, however often it is noted');
      // The queued write was never sent: nothing of it was recorded.
      const { rows } = await held.inner.query<{ n: number }>('SELECT count(*)::int AS n FROM decisions');
      assert.equal(rows[0]!.n, 1);
    } finally {
      held.releaseCommits();
      await held.inner.close();
    }
  });
});

describe('the decision writer, several decisions together', () => {
  it('commits a group in one transaction, whatever the batch size, or none of it, keys and all', async () => {
    const db = await openPglite(undefined);
    await migrate(db);
    const sizes: number[] = [];
    const writer = new DecisionWriter(db, { batch: (size) => void sizes.push(size) }, { maxBatch: 1 });
    try {
      const ruleSet = compile(await ucBundle());
      const claim = (key: string) => ({ keyHash: key, requestHash: 'request' });
      const group = (keys: string[]) =>
        writer.writeAll(
          keys.map((key) => ({
            draft: decisionDraft(ruleSet, canaryInput),
            bundle: ruleSet.program.bundle,
            claim: claim(key),
          })),
        );
      const first = await Promise.all(group(['k1', 'k2', 'k3']));
      assert.equal(first.length, 3);
      assert.deepEqual(sizes, [3], 'a group is never split between transactions');

      // One key of the second group already names a decision: none of it is recorded, and the
      // key it claimed afresh is given up with it.
      const second = await Promise.allSettled(group(['k4', 'k2']));
      assert.deepEqual(
        second.map((s) => (s.status === 'rejected' ? (s.reason as Error).name : 'recorded')),
        ['DuplicateSubmission', 'DuplicateSubmission'],
      );
      const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
      assert.equal(await count('SELECT count(*) AS n FROM decisions'), 3);
      assert.equal(await count("SELECT count(*) AS n FROM idempotency_keys WHERE key_hash = 'k4'"), 0);
      assert.equal(
        await count('SELECT count(*) AS n FROM idempotency_keys k JOIN decisions d ON d.id = k.decision_id'),
        3,
        'every key names a recorded decision',
      );
      assert.deepEqual(writer.writeAll([]), []);
    } finally {
      await writer.close();
      await db.close();
    }
  });
});
