import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFaultScenario } from '../testing/index.ts';

/**
 * The fault suite: the real service on PostgreSQL through a proxy that refuses, resets, freezes
 * and slows the database's connections under load (src/testing/fault-run.ts). Every answer is
 * 201 or 503 with Retry-After, none waits past the deadline, the service recovers without a
 * restart, and every decision acknowledged is in the database and the verified record.
 */
const TIMEOUT_MS = 1_500;
/** The statement deadline (+1 s margin), a connection's wait, and admission's wait. */
const ANSWER_WITHIN_MS = TIMEOUT_MS + 1_000 + 1_000 + 1_000;

describe('a database that refuses, resets, freezes and slows', () => {
  it(
    'answers every request within the deadline, loses no acknowledged decision, and recovers by itself',
    { timeout: 180_000 },
    async () => {
      const result = await runFaultScenario({ timeoutMs: TIMEOUT_MS, clients: 8, scale: 1 });
      process.stdout.write(`# faults: ${JSON.stringify({ ...result, phases: undefined })}\n`);
      assert.deepEqual(result.violations, [], 'every answer is 201 or 503 with Retry-After');
      assert.ok(result.slowestMs < ANSWER_WITHIN_MS, `slowest answer ${result.slowestMs} ms`);
      assert.equal(result.found, result.acknowledged, 'every acknowledged decision is recorded');
      assert.ok(result.recordVerified, 'the record verifies against its log');
      const phase = (name: string) => result.phases.find((p) => p.phase.startsWith(name))!;
      // Sent and answered while refused: a request sent in the phase's last milliseconds may be
      // decided once the database is back, and is rightly acknowledged.
      assert.equal(
        phase('refused').acknowledgedWithin,
        0,
        `nothing acknowledged while refused: ${JSON.stringify(result.phases)}`,
      );
      assert.ok((phase('frozen').byStatus['503'] ?? 0) > 0, 'a frozen database answers 503');
      assert.ok((phase('recovered').byStatus['201'] ?? 0) > 100, 'recovered without a restart');
      assert.ok(result.recoveryMs >= 0 && result.recoveryMs < 5_000, `recovered in ${result.recoveryMs} ms`);
      assert.ok(result.unacknowledged >= 0, 'decisions whose callers never had the answer can be listed');
    },
  );
});
