import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, it } from 'node:test';
import { recordEnvironment } from '../flags/index.ts';
import { eventually, testService } from '../testing/index.ts';

describe('synthetic decisions over HTTP', () => {
  it('records them as the active version decides, streams progress to a caller that asks, and never in production', async () => {
    const service = await testService();
    try {
      const post = (key: string, payload: unknown, accept?: string) =>
        service.app.inject({
          method: 'POST',
          url: '/v1/simulations',
          headers: { authorization: `Bearer ${key}`, ...(accept ? { accept } : {}) },
          payload: payload as object,
        });
      const { keys } = service;

      assert.equal((await post(keys.assessor, { households: 5 })).statusCode, 403, 'policy authors only');
      const invalid = await post(keys['policy-author'], { households: 0 });
      assert.equal(invalid.statusCode, 400);
      assert.match(invalid.body, /households/);

      const tooMany = await post(keys['policy-author'], { households: 1_001 });
      assert.equal(tooMany.statusCode, 400, 'a plain JSON answer waits for the whole run, so it is kept short');
      assert.match(tooMany.body, /application\/x-ndjson/);
      const plain = await post(keys['policy-author'], { households: 20, seed: 3 });
      assert.equal(plain.statusCode, 200, plain.body);
      assert.equal(plain.json<{ recorded: number }>().recorded, 20);

      const streamed = await post(keys['policy-author'], { households: 30, seed: 4 }, 'application/x-ndjson');
      assert.equal(streamed.statusCode, 200, streamed.body);
      assert.match(String(streamed.headers['content-type']), /^application\/x-ndjson/);
      const lines = streamed.body
        .trim()
        .split('\n')
        .map(
          (line) => JSON.parse(line) as { progress?: { done: number; total: number }; result?: { recorded: number } },
        );
      assert.deepEqual(lines.at(-2)?.progress, { done: 30, total: 30 });
      assert.equal(lines.at(-1)?.result?.recorded, 30);
      const { rows } = await service.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM decisions WHERE application_id LIKE 'SYN-%'",
      );
      assert.equal(rows[0]!.n, 50);

      // A caller that hangs up mid-stream: the work goes on and is recorded, and the next run is taken.
      const address = await service.app.listen({ port: 0, host: '127.0.0.1' });
      await new Promise<void>((resolve, reject) => {
        const request = httpRequest(`${address}/v1/simulations`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${keys['policy-author']}`,
            'content-type': 'application/json',
            accept: 'application/x-ndjson',
          },
        });
        request.on('response', (response) => response.once('data', () => (request.destroy(), resolve())));
        request.on('error', reject);
        request.end(JSON.stringify({ households: 2_000, seed: 5 }));
      });
      await eventually(
        'the abandoned simulation to finish',
        async () => {
          const { rows: done } = await service.db.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM decisions WHERE application_id LIKE 'SYN-UC-5-%'",
          );
          return done[0]!.n === 2_000 ? true : undefined;
        },
        60_000,
        200,
      );
      const next = await post(keys['policy-author'], { households: 1, seed: 6 });
      assert.equal(next.statusCode, 200, 'one run at a time, and the abandoned one has ended');

      await recordEnvironment(service.db, 'production', 'test');
      const production = await post(keys['policy-author'], { households: 5 });
      assert.equal(production.statusCode, 403);
      assert.match(production.json<{ detail: string }>().detail, /never recorded in production/);
    } finally {
      await service.close();
    }
  });
});
