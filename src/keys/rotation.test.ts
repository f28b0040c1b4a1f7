import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testService } from '../testing/index.ts';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('keys that expire, and rotation with an overlap', () => {
  it('rotates a key: the new one works at once, the old one until the overlap ends, then never', async () => {
    const service = await testService();
    try {
      const admin = (method: 'GET' | 'POST', url: string, payload?: object) =>
        service.app.inject({ method, url, headers: bearer(service.keys.admin), ...(payload ? { payload } : {}) });
      const made = await admin('POST', '/v1/keys', {
        name: 'front-end-1',
        roles: ['assessor'],
        person: 'Front End',
        expiresInDays: 90,
      });
      assert.equal(made.statusCode, 201, made.body);
      const old = made.json<{ key: string; expiresAt: string }>();
      const inNinetyDays = Date.now() + 90 * 86_400_000;
      assert.ok(Math.abs(Date.parse(old.expiresAt) - inNinetyDays) < 60_000);

      const whoami = (key: string) => service.app.inject({ url: '/v1/whoami', headers: bearer(key) });
      assert.equal((await whoami(old.key)).statusCode, 200);

      const rotated = await admin('POST', '/v1/keys/front-end-1/rotate', { newName: 'front-end-2', overlapDays: 7 });
      assert.equal(rotated.statusCode, 201, rotated.body);
      const fresh = rotated.json<{
        key: string;
        name: string;
        person: string;
        roles: string[];
        old: { expiresAt: string };
      }>();
      assert.deepEqual([fresh.name, fresh.person, fresh.roles], ['front-end-2', 'Front End', ['assessor']]);
      assert.ok(Math.abs(Date.parse(fresh.old.expiresAt) - (Date.now() + 7 * 86_400_000)) < 60_000);
      // Both work during the overlap.
      assert.equal((await whoami(fresh.key)).statusCode, 200);
      assert.equal((await whoami(old.key)).statusCode, 200);

      // The overlap over (as if a week passed): the old key is refused, the new one is not.
      await service.db.query("UPDATE api_keys SET expires_at = '2020-01-01T00:00:00.000Z' WHERE name = 'front-end-1'");
      await service.db.query("SELECT pg_notify('entitle_keys', 'test')");
      let status = 200;
      for (let i = 0; i < 50 && status === 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        status = (await whoami(old.key)).statusCode;
      }
      assert.equal(status, 401, 'an expired key is refused');
      assert.equal((await whoami(fresh.key)).statusCode, 200);

      // The audit chain has both steps; bad input is refused by name.
      const { rows } = await service.db.query<{ action: string }>(
        "SELECT action FROM audit_events WHERE action IN ('key.created', 'key.expiry_set') ORDER BY seq",
      );
      assert.deepEqual(rows.map((r) => r.action).slice(-3), ['key.created', 'key.expiry_set', 'key.created']);
      const tooLong = await admin('POST', '/v1/keys/front-end-2/rotate', { newName: 'front-end-3', overlapDays: 365 });
      assert.equal(tooLong.statusCode, 400);
      const taken = await admin('POST', '/v1/keys/front-end-2/rotate', { newName: 'front-end-2', overlapDays: 1 });
      assert.equal(taken.statusCode, 400);
      assert.match(taken.body, /a key named front-end-2 exists already/);
      assert.equal((await admin('POST', '/v1/keys/nobody/rotate', { newName: 'x-1', overlapDays: 1 })).statusCode, 404);
    } finally {
      await service.close();
    }
  });
});
