import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canaryInput, placeQueued, TEST_VERIFIER, testService } from '../testing/index.ts';
import { ChainWatch } from './index.ts';

describe('the record watch', () => {
  it('follows the log as it grows, and reports the first decision altered or the log shrinking', async () => {
    const service = await testService();
    try {
      const states: { intact: boolean; verified: number }[] = [];
      const watch = new ChainWatch(service.db, TEST_VERIFIER, (s) => states.push(s), 2, 2);
      const assess = async (n: number) => {
        const response = await service.app.inject({
          method: 'POST',
          url: '/v1/assessments',
          headers: { authorization: `Bearer ${service.keys.assessor}` },
          payload: { ...canaryInput, applicationId: `WATCH-${n}` },
        });
        assert.equal(response.statusCode, 201);
        return response.json<{ decisionId: string }>().decisionId;
      };
      for (let n = 0; n < 5; n++) await assess(n);
      await placeQueued(service.db);
      await watch.tick();
      assert.deepEqual(states.at(-1), { intact: true, verified: 4 }, 'two pages of two a tick');
      await watch.tick();
      assert.deepEqual(states.at(-1), { intact: true, verified: 5 });
      const id = await assess(5);
      await placeQueued(service.db);
      await service.db.query("UPDATE decisions SET outcome = jsonb_set(outcome, '{amount}', '9999') WHERE id = $1", [
        id,
      ]);
      await watch.tick();
      const broken = states.at(-1) as { intact: boolean; verified: number; problem?: { seq: number; message: string } };
      assert.equal(broken.intact, false);
      assert.equal(broken.verified, 5);
      assert.equal(
        broken.problem?.message,
        `decision ${id} was altered: its content no longer matches its hash (leaf 5)`,
      );
    } finally {
      await service.close();
    }
  });

  it('breaks when the log is rewound below what it verified', async () => {
    const service = await testService();
    try {
      const states: { intact: boolean; problem?: { message: string } }[] = [];
      const watch = new ChainWatch(service.db, TEST_VERIFIER, (s) => states.push(s));
      for (let n = 0; n < 3; n++)
        await service.app.inject({
          method: 'POST',
          url: '/v1/assessments',
          headers: { authorization: `Bearer ${service.keys.assessor}` },
          payload: { ...canaryInput, applicationId: `REWIND-${n}` },
        });
      await placeQueued(service.db);
      await watch.tick();
      assert.equal(states.at(-1)?.intact, true);
      await service.db.exec("DELETE FROM log_checkpoints WHERE log = 'decisions' AND size > 1");
      await watch.tick();
      assert.equal(states.at(-1)?.intact, false);
      assert.match(states.at(-1)?.problem?.message ?? '', /the decision log shrank: this instance verified 3 leaves/);
    } finally {
      await service.close();
    }
  });
});
