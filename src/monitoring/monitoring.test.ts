import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EntitleError } from '../errors/index.ts';
import { createKey } from '../keys/index.ts';
import { startService } from '../service/index.ts';
import { projectRoot as root, runEntitle } from '../testing/index.ts';
import {
  formatSmoke,
  formatStatus,
  Probe,
  PrometheusClient,
  smoke,
  historyFromDatabase,
  statusFromPrometheus,
  statusFromService,
} from './index.ts';

describe('entitle status without Prometheus', () => {
  it("summarises from the service's own metrics and the audit log, and says what it cannot know", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-ops-status-'));
    const service = await startService({
      store: { dataDir: join(dir, 'data') },
      rulesDir: join(root, 'rulesets'),
      host: '127.0.0.1',
      port: 0,
      shutdownGraceMs: 0,
      logLevel: 'silent',
    });
    try {
      const { key } = await createKey(service.db, 'status-test', ['assessor']);
      const input = await readFile(join(root, 'examples/universal-credit.json'), 'utf8');
      for (let i = 0; i < 3; i++)
        await fetch(`${service.address}/v1/assessments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: input,
        });
      const report = await statusFromService(service.address, historyFromDatabase(service.db));
      assert.equal(report.verdict, 'HEALTHY');
      assert.equal(report.source, 'service');
      assert.equal(report.journeys.find((j) => j.slo === 'assessment_availability')?.budgetLeft, 1);
      assert.equal(
        report.journeys.find((j) => j.slo === 'assessment_latency')?.budgetLeft,
        null,
        'no windows without Prometheus',
      );
      assert.ok(
        report.changes.some((c) => c.what === 'ruleset.first_active'),
        'the first rule set served is a change of the last 7 days',
      );
      assert.match(
        formatStatus(report),
        /^HEALTHY {2}\(from the service's own metrics, since it started; set PROMETHEUS_URL for burn rates and alerts/,
      );

      // A wrong address is the operator's to fix: a clear error naming the setting, not a fault.
      const unreachable = (field: string) => (error: unknown) =>
        error instanceof EntitleError &&
        error.code === 'ENTITLE_SOURCE_UNREACHABLE' &&
        error.problems[0]?.field === field;
      await assert.rejects(
        statusFromService('http://127.0.0.1:9', historyFromDatabase(service.db)),
        unreachable('ENTITLE_URL'),
      );
      await assert.rejects(
        statusFromPrometheus(new PrometheusClient('http://127.0.0.1:9'), historyFromDatabase(service.db)),
        unreachable('PROMETHEUS_URL'),
      );
    } finally {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('entitle probe', () => {
  it('runs the synthetic journey against a live service, marks its household, and reports a broken step', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-ops-probe-'));
    const service = await startService({
      store: { dataDir: join(dir, 'data') },
      rulesDir: join(root, 'rulesets'),
      host: '127.0.0.1',
      port: 0,
      shutdownGraceMs: 0,
      logLevel: 'silent',
    });
    try {
      const { key } = await createKey(service.db, 'probe', ['assessor', 'caseworker']);
      const probe = new Probe(service.address, key);
      const result = await probe.run();
      assert.equal(result.ok, true, JSON.stringify(result.failure));
      const { rows } = await service.db.query<{ application_id: string }>(
        'SELECT application_id FROM decisions WHERE id = $1',
        [result.decisionId],
      );
      assert.match(rows[0]!.application_id, /^PROBE-SYNTHETIC-\d+$/);
      assert.match(await probe.registry.metrics(), /entitle_probe_journeys_total\{result="ok"\} 1/);

      // A key that may assess but not read decisions: the journey fails at the fetch, and says so.
      const { key: assessorOnly } = await createKey(service.db, 'probe-assessor-only', ['assessor']);
      const broken = await new Probe(service.address, assessorOnly).run();
      assert.deepEqual(broken.failure, { step: 'fetch', reason: 'answered 403' });
    } finally {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    }
    const unreachable = await new Probe('http://127.0.0.1:9', 'none', 2_000).run();
    assert.equal(unreachable.failure?.step, 'assess');
    assert.match(unreachable.failure?.reason ?? '', /^no answer/);
  });
});

describe('entitle smoke', () => {
  it('passes every citizen journey against a live service within 60 s, and names each failing step, with the exit status a pipeline acts on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-ops-smoke-'));
    const service = await startService({
      store: { dataDir: join(dir, 'data') },
      rulesDir: join(root, 'rulesets'),
      host: '127.0.0.1',
      port: 0,
      shutdownGraceMs: 0,
      logLevel: 'silent',
      testFaults: true,
    });
    try {
      const { key } = await createKey(service.db, 'smoke', ['assessor', 'caseworker']);
      const passed = await runEntitle(['smoke', '--url', service.address], { ENTITLE_SMOKE_KEY: key });
      assert.equal(passed.code, 0, passed.stdout);
      assert.match(passed.stdout, /^PASSED {2}smoke test of http:\/\/127\.0\.0\.1:\d+ in \d+\.\d s\n/);
      for (const step of ['health', 'ready', 'metrics', 'assess', 'fetch', 'replay'])
        assert.match(passed.stdout, new RegExp(`ok {5}${step}`));

      // The database fails: the report says which journeys broke, and how.
      const admin = (await createKey(service.db, 'smoke-admin', ['admin'])).key;
      await fetch(`${service.address}/test/faults`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ database: 'down' }),
      });
      const failed = await smoke(service.address, key);
      assert.equal(failed.ok, false);
      assert.deepEqual(
        failed.steps.map((s) => [s.step, s.ok, s.reason]),
        [
          ['health', true, undefined],
          ['ready', false, 'answered 503: not ready (database, migrations failing)'],
          ['metrics', true, undefined],
          ['assess', false, 'answered 503 ENTITLE_STORE_UNAVAILABLE'],
          ['fetch', false, 'not run: an earlier step failed'],
          ['replay', false, 'not run: an earlier step failed'],
        ],
      );
      assert.match(formatSmoke(failed), /^FAILED {2}smoke test/);
    } finally {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    }
    const nowhere = await runEntitle(['smoke', '--url', 'http://127.0.0.1:9', '--key', 'none']);
    assert.equal(nowhere.code, 1);
    assert.match(nowhere.stdout, /FAILED health +no answer/);
    assert.equal((await runEntitle(['smoke', '--url', 'http://127.0.0.1:9'])).code, 2, 'no key: told to give one');
  });
});
