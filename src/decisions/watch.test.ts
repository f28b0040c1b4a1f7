import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canaryInput, testService } from '../testing/index.ts';
import { ChainWatch } from './index.ts';

describe('the chain watch', () => {
  it('follows the chain as it grows, and reports the first altered record', async () => {
    const service = await testService();
    try {
      const states: { intact: boolean; verified: number }[] = [];
      const watch = new ChainWatch(service.db, (s) => states.push(s), 2, 2);
      const assess = async (n: number) => {
        const response = await service.app.inject({
          method: 'POST',
          url: '/v1/assessments',
          headers: { authorization: `Bearer ${service.keys.assessor}` },
          payload: { ...canaryInput, applicationId: `WATCH-${n}` },
        });
        assert.equal(response.statusCode, 201);
      };
      for (let n = 0; n < 5; n++) await assess(n);
      await watch.tick();
      assert.deepEqual(states.at(-1), { intact: true, verified: 4 }, 'two pages of two a tick');
      await watch.tick();
      assert.deepEqual(states.at(-1), { intact: true, verified: 5 });
      await assess(5);
      await service.db.query("UPDATE decisions SET outcome = jsonb_set(outcome, '{amount}', '9999') WHERE seq = 6");
      await watch.tick();
      const broken = states.at(-1) as { intact: boolean; verified: number; problem?: { seq: number; message: string } };
      assert.equal(broken.intact, false);
      assert.equal(broken.verified, 5);
      assert.equal(broken.problem?.seq, 6);
      assert.equal(broken.problem?.message, 'record 6 was altered: its content no longer matches its hash');
    } finally {
      await service.close();
    }
  });
});
