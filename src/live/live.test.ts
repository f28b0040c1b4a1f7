import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { auditEventsFor } from '../audit/index.ts';
import { createKey } from '../keys/index.ts';
import {
  createRelease,
  DEFAULT_GATES,
  getRelease,
  readStats,
  setCanary,
  startShadow,
  type GateSettings,
} from '../releases/index.ts';
import type { RuleSetBundle } from '../rules/index.ts';
import { startService, type RunningService } from '../service/index.ts';
import {
  beforeUprating,
  CAPACITY_WITHOUT_PRESSURE,
  compile,
  eventually,
  household,
  taper,
  testDatabases,
  testLogStream,
  ucBundle,
  uprating,
  writeRuleSetDir,
} from '../testing/index.ts';
import { canaryBucket } from './index.ts';

const PAST = '2025-04-01T00:00:00.000Z';

interface Harness {
  readonly service: RunningService;
  readonly key: string;
  readonly assess: (
    n: number,
  ) => Promise<{ statusCode: number; body: { decisionId: string; ruleset: { hash: string } } }>;
}

async function withService(
  kind: 'pglite' | 'postgres',
  gates: Partial<GateSettings>,
  work: (h: Harness) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'entitle-live-'));
  const t = kind === 'postgres' ? await testDatabases.postgres() : undefined;
  const logStream = testLogStream();
  let service: RunningService | undefined;
  try {
    const rulesDir = await writeRuleSetDir(join(dir, 'rules', 'uk-universal-credit'), beforeUprating(await ucBundle()));
    service = await startService({
      store: t ? { databaseUrl: t.url } : { dataDir: join(dir, 'data') },
      rulesDir: join(rulesDir, '..'),
      host: '127.0.0.1',
      port: 0,
      shutdownGraceMs: 0,
      ...(logStream ? { logStream } : { logLevel: 'silent' }),
      releases: { gates: { ...DEFAULT_GATES, ...gates }, pollMs: 100, flushMs: 100, watchMs: 200 },
      capacity: CAPACITY_WITHOUT_PRESSURE,
    });
    const key = (await createKey(service.db, 'live-test', ['assessor'])).key;
    const running = service;
    await work({
      service,
      key,
      assess: async (n) => {
        const response = await running.app.inject({
          method: 'POST',
          url: '/v1/assessments',
          headers: { authorization: `Bearer ${key}` },
          payload: household(n),
        });
        return { statusCode: response.statusCode, body: response.json() };
      },
    });
  } finally {
    await service?.stop();
    await t?.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function release(
  service: RunningService,
  bundle: RuleSetBundle,
  expectations: { changes: unknown[] } = { changes: [] },
) {
  const { program } = compile(bundle);
  return createRelease(service.db, {
    program,
    author: 'alice',
    summary: 'test release',
    effectiveAt: PAST,
    expectations: expectations as never,
    golden: { total: 1, failed: [] },
  });
}

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`live releases on ${kind}`, () => {
    it('compares live assessments with a release in shadow, off the response path, and keeps differing cases with both traces', async () => {
      await withService(kind, { minSample: 1_000_000 }, async ({ service, assess }) => {
        const active = compile(beforeUprating(await ucBundle()));
        const candidate = await release(service, taper(await ucBundle(), '56%'));
        await startShadow(service.db, candidate.id, { sharePercent: 100, preview: false }, 'alice', 'compare');
        await service.live.sync();

        for (let n = 0; n < 60; n++) {
          const { statusCode, body } = await assess(n);
          assert.equal(statusCode, 201);
          // The citizen always gets the active version's decision.
          assert.equal(body.ruleset.hash, active.hash);
        }
        const stats = await eventually('the counts to be stored', async () => {
          const s = await readStats(service.db, candidate.id);
          return s.identical + s.unexpected === 60 ? s : undefined;
        });
        assert.ok(stats.unexpected > 20, `only ${stats.unexpected} unexpected differences`);
        assert.ok(stats.identical > 0, 'households without earnings are unaffected by the taper');
        assert.equal(stats.aaDifferent, 0);
        assert.equal(stats.aaIdentical, 60);
        assert.ok(stats.firstUnexpectedAt);

        const { rows } = await service.db.query<{
          kind: string;
          comparison: { differences: { variable: string; cause: string }[] };
          active_trace: { trace?: unknown };
          candidate_trace: { trace?: unknown };
        }>('SELECT kind, comparison, active_trace, candidate_trace FROM release_samples WHERE release_id = $1', [
          candidate.id,
        ]);
        assert.equal(rows.length, 20, 'samples are capped per kind');
        assert.ok(
          rows.every(
            (r) =>
              r.kind === 'unexpected' &&
              r.comparison.differences.some((d) => d.variable === 'earnedIncomeDeduction' && d.cause === 'undeclared'),
          ),
        );
        assert.ok(rows[0]!.active_trace.trace && rows[0]!.candidate_trace.trace, 'both traces are kept');

        const metrics = await service.app.inject({ method: 'GET', url: '/metrics' });
        assert.match(
          metrics.body,
          new RegExp(
            `entitle_release_comparisons_total\\{release="${candidate.id}",benefit="universal-credit",kind="unexpected"\\} ${stats.unexpected}`,
          ),
        );
        assert.match(metrics.body, /entitle_release_aa_checks_total\{[^}]*result="same"\} 60/);
        // Still under test: the minimum sample is not reached, so the watcher waits.
        assert.equal((await getRelease(service.db, candidate.id)).state, 'shadow');
      });
    });

    it('rolls a release back on its own when unexpected differences pass 0.1%, before it decides for anyone', async () => {
      await withService(kind, { minSample: 100 }, async ({ service, assess }) => {
        const candidate = await release(service, taper(await ucBundle(), '56%'));
        await startShadow(service.db, candidate.id, { sharePercent: 100, preview: false }, 'alice', 'compare');
        await service.live.sync();
        for (let n = 0; n < 150; n++) assert.equal((await assess(n)).statusCode, 201);

        const rolledBack = await eventually('the automatic rollback', async () => {
          const r = await getRelease(service.db, candidate.id);
          return r.state === 'rolled-back' ? r : undefined;
        });
        const stats = await readStats(service.db, candidate.id);
        const event = (await auditEventsFor(service.db, rolledBack.id)).find((e) => e.action === 'release.rolled_back');
        assert.ok(event);
        assert.equal(event.actor, 'entitle');
        assert.match(event.reason, /^automatic rollback: \d+ of \d+ comparisons .*differ unexpectedly/);
        assert.equal((event.evidence as { automatic: boolean }).automatic, true);
        const delay = Date.parse(event.at) - Date.parse(stats.firstUnexpectedAt!);
        assert.ok(delay < 60_000, `rolled back ${delay} ms after the first unexpected difference`);

        const { rows } = await service.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM decisions WHERE ruleset_hash = $1 OR release_id = $2',
          [candidate.rulesetHash, candidate.id],
        );
        assert.equal(rows[0]!.n, 0, 'no citizen decision was made with the rolled-back release');
        const metrics = await service.app.inject({ method: 'GET', url: '/metrics' });
        assert.match(metrics.body, /entitle_release_automatic_rollbacks_total\{benefit="universal-credit"\} 1/);
        // The instance stops comparing at once.
        await service.live.sync();
        assert.equal(service.live.routing.get('universal-credit')?.test, undefined);
      });
    });

    it('decides a stable canary share with the candidate, records the bucket and why, and only grows it', async () => {
      await withService(kind, { minSample: 1_000_000 }, async ({ service, assess }) => {
        const active = compile(beforeUprating(await ucBundle()));
        const candidate = await release(service, uprating(await ucBundle()));
        await startShadow(service.db, candidate.id, { sharePercent: 10, preview: false }, 'alice', 'compare');
        await setCanary(service.db, candidate.id, 30, 'alice', 'start the canary');
        await service.live.sync();

        const decided = new Map<number, string>();
        for (let n = 0; n < 80; n++) {
          const { body } = await assess(n);
          const inCanary = canaryBucket(candidate.id, household(n).applicationId) < 3_000;
          assert.equal(body.ruleset.hash, inCanary ? candidate.rulesetHash : active.hash, `application ${n}`);
          decided.set(n, body.ruleset.hash);
        }
        const inCanary = [...decided.values()].filter((h) => h === candidate.rulesetHash).length;
        assert.ok(inCanary > 10 && inCanary < 40, `${inCanary} of 80 in a 30% canary`);

        // The same application gets the same version again.
        for (let n = 0; n < 10; n++) assert.equal((await assess(n)).body.ruleset.hash, decided.get(n));

        const { rows } = await service.db.query<{
          release_id: string | null;
          assignment: { bucket: number; reason: string; releaseId: string | null };
        }>("SELECT release_id, assignment FROM decisions WHERE application_id = 'LIVE-00001' LIMIT 1");
        const assignment = rows[0]!.assignment;
        assert.equal(assignment.bucket, canaryBucket(candidate.id, 'LIVE-00001'));
        assert.match(
          assignment.reason,
          assignment.bucket < 3_000 ? /in the canary: bucket \d+ is below 3000 \(30%\)/ : /not in the canary/,
        );

        await setCanary(service.db, candidate.id, 60, 'alice', 'widen');
        await service.live.sync();
        for (let n = 0; n < 80; n++) {
          const hash = (await assess(n)).body.ruleset.hash;
          if (decided.get(n) === candidate.rulesetHash)
            assert.equal(hash, candidate.rulesetHash, `application ${n} left the canary as it grew`);
        }
      });
    });
  });
}
