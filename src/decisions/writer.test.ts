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
