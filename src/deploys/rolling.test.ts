import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { createKey } from '../keys/index.ts';
import { NGINX, proveRollingDeploy, testDatabases } from '../testing/index.ts';

if (!existsSync(NGINX) && process.env.CI)
  throw new Error(`${NGINX} is missing: .ci/run installs nginx (apt-get install -y nginx) before the tests`);

describe(
  'rolling deploy behind nginx',
  { skip: existsSync(NGINX) ? false : `${NGINX} is not installed (apt-get install -y nginx)` },
  () => {
    it('rolls three instances to a new version and back under constant load: no request fails and every decision answered is recorded', async (t) => {
      const database = await testDatabases.postgres();
      try {
        const { key } = await createKey(database.db, 'rolling-load', ['assessor']);
        const body: unknown = JSON.parse(
          await readFile(new URL('../../examples/universal-credit.json', import.meta.url), 'utf8'),
        );
        const proof = await proveRollingDeploy({
          databaseUrl: database.url!,
          key,
          body,
          connections: 16,
          drainMs: 1_000,
          steadyMs: 2_000,
          countDecisions: async () =>
            (await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM decisions')).rows[0]!.n,
        });
        for (const [name, phase] of Object.entries({ roll: proof.roll, rollback: proof.rollback })) {
          t.diagnostic(
            `${name}: ${phase.requests} requests, ${phase.failed} failed, p50 ${phase.p50} ms, p99 ${phase.p99} ms, max ${phase.max} ms; every instance serving after ${(phase.allServingMs / 1000).toFixed(1)} s (${phase.steps.map((s) => `${(s.ms / 1000).toFixed(1)} s`).join(', ')} each)`,
          );
          assert.ok(phase.requests > 100, `${name}: the load ran (${phase.requests} requests)`);
          assert.equal(phase.failed, 0, `${name}: no request failed (${JSON.stringify(phase.failures)})`);
          assert.ok(
            phase.steps.every((s) => s.exitCode === 0),
            `${name}: every old instance stopped cleanly`,
          );
        }
        assert.equal(
          proof.decisionsRecorded,
          proof.answered,
          'every decision answered 201 is in the database, and no other',
        );
      } finally {
        await database.drop();
      }
    });
  },
);
