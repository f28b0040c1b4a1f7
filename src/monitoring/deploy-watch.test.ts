// The watch after a deploy, with the real components: `entitle serve` on PostgreSQL, scraped by the
// Debian Prometheus running the generated rules (an hour lasting a minute), and the real command.
// A healthy hour holds; the database failing breaks it, opens an incident and exits 1.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { DeployWatch } from '../deploys/index.ts';
import type { Incident } from '../incidents/index.ts';
import { createKey } from '../keys/index.ts';
import { ruleGroups } from '../ops/index.ts';
import {
  eventually,
  freePort,
  installed,
  runEntitle,
  spawnServer,
  testDatabases,
  type ServerProcess,
} from '../testing/index.ts';
import { DeployWatcher } from './deploy-watch.ts';
import { PrometheusClient } from './status.ts';

const COMMIT = 'c0ffee0000000000000000000000000000000001';

describe('the watch after a deploy', { timeout: 240_000 }, () => {
  it('holds on a healthy build, and on a failing one opens an incident, records it and exits 1', async (t) => {
    if (!(await installed('prometheus'))) {
      if (process.env.CI) throw new Error('prometheus must be installed: .ci/run installs it');
      return t.skip('prometheus is not installed here');
    }
    const db = await testDatabases.postgres();
    const dir = await mkdtemp(join(tmpdir(), 'entitle-deploy-watch-'));
    let prometheusProcess: ChildProcess | undefined;
    let service: ServerProcess | undefined;
    let stopTraffic = false;
    try {
      service = await spawnServer({ DATABASE_URL: db.url!, ENTITLE_TEST_FAULTS: 'on', LOG_LEVEL: 'warn' });
      const admin = (await createKey(db.db, 'watch-admin', ['admin'])).key;
      const assessor = (await createKey(db.db, 'watch-front-end', ['assessor'])).key;
      const pipeline = (await createKey(db.db, 'watch-pipeline', ['operator'])).key;
      const port = await freePort();
      await writeFile(join(dir, 'rules.yml'), stringify({ groups: ruleGroups({ timeScale: 60 }) }, { lineWidth: 0 }));
      await writeFile(
        join(dir, 'prometheus.yml'),
        stringify({
          global: { scrape_interval: '1s', evaluation_interval: '1s' },
          rule_files: ['rules.yml'],
          scrape_configs: [{ job_name: 'entitle', static_configs: [{ targets: [new URL(service.url).host] }] }],
        }),
      );
      prometheusProcess = spawn(
        'prometheus',
        [
          `--config.file=${join(dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${join(dir, 'prom')}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: 'ignore' },
      );
      const prometheusUrl = `http://127.0.0.1:${port}`;
      const prometheus = new PrometheusClient(prometheusUrl);
      const env = { ENTITLE_URL: service.url, ENTITLE_API_KEY: pipeline, PROMETHEUS_URL: prometheusUrl };

      // The deploy is recorded first, as the pipeline does: it opens the heightened window.
      const recorded = await runEntitle(
        [
          ...['deploy', 'record', '--environment', 'development', '--version', '1.4.2', '--commit', COMMIT],
          ...['--strategy', 'blue-green', '--verification', 'the test'],
        ],
        env,
      );
      assert.equal(recorded.code, 0, recorded.stderr);
      await eventually(
        'Prometheus to see the heightened window',
        async () =>
          (await prometheus.scalar('max(entitle_deploy_heightened)').catch(() => null)) === 1 ? true : undefined,
        30_000,
        250,
      );

      // The mismatch series exists from the start at 0, so the first mismatch is an increase.
      assert.equal(await prometheus.scalar('sum(entitle_replays_total{result="mismatch"})'), 0);

      const input = await readFile(
        fileURLToPath(new URL('../../examples/universal-credit.json', import.meta.url)),
        'utf8',
      );
      const traffic = (async () => {
        while (!stopTraffic) {
          await fetch(`${service.url}/v1/assessments`, {
            method: 'POST',
            headers: { authorization: `Bearer ${assessor}`, 'content-type': 'application/json' },
            body: input,
          })
            .then((r) => r.arrayBuffer())
            .catch(() => undefined);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await eventually(
        'the journeys to have a burn rate',
        async () =>
          (await prometheus.scalar('max(slo:sli_events:rate5m{slo="assessment_availability"})').catch(() => null))
            ? true
            : undefined,
        30_000,
        250,
      );

      const watch = (seconds: number) =>
        runEntitle(
          [
            ...['deploy', 'watch', '--environment', 'development', '--version', '1.4.2', '--commit', COMMIT],
            ...['--for', `${seconds}s`, '--every', '1s'],
          ],
          env,
        );
      const held = await watch(30);
      assert.equal(held.code, 0, held.stdout + held.stderr);
      assert.match(held.stdout, /heightened window until/);
      assert.match(held.stdout, /burn over 5 minutes: assessment_availability 0x/);
      assert.match(held.stdout, /held: nothing broke in \d+ checks over 30s; recorded in the audit chain/);

      // The database fails: assessments get 503s, and the watch breaks within seconds. The
      // database comes back 8 seconds later, in time for the watch's second try to open the incident.
      const faults = (state: 'down' | 'up') =>
        fetch(`${service!.url}/test/faults`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: JSON.stringify({ database: state }),
        });
      assert.equal((await faults('down')).status, 200);
      const brokeAt = Date.now();
      const restore = new Promise((r) => setTimeout(r, 8_000)).then(() => faults('up'));
      const broke = await watch(120);
      await restore;
      t.diagnostic(`the watch ended ${((Date.now() - brokeAt) / 1000).toFixed(1)} s after the database failed`);
      assert.equal(broke.code, 1, broke.stdout + broke.stderr);
      // Whichever journey the failing database burns first: assessments, or their records.
      assert.match(
        broke.stdout,
        /\nBROKE: (A citizen gets an assessment|Every decision is recorded and verifiable): the error budget burned [\d.]+x too fast over 5 minutes/,
      );
      assert.match(broke.stdout, /could not open the incident yet \(.*\); trying again in 10 seconds/);
      const id = /incident (INC-\d+) \(P1\) opened; roll back/.exec(broke.stdout)?.[1];
      assert.ok(id, broke.stdout);
      const incident = await fetch(`${service.url}/v1/incidents/${id}`, {
        headers: { authorization: `Bearer ${pipeline}` },
      }).then((r) => r.json() as Promise<{ incident: Incident }>);
      assert.equal(incident.incident.priority, 'P1');
      assert.ok(
        incident.incident.journeys.some((j) => ['assessment_availability', 'decisions_recorded'].includes(j)),
        incident.incident.journeys.join(),
      );
      assert.match(incident.incident.title, /^Version 1\.4\.2 in development broke after deploy/);

      // Both outcomes are in the audit chain, the second naming its incident.
      const { rows } = await db.db.query<{ evidence: { watch: DeployWatch } }>(
        "SELECT evidence FROM audit_events WHERE action = 'deploy.watched' ORDER BY seq",
      );
      assert.deepEqual(
        rows.map((r) => [r.evidence.watch.verdict, r.evidence.watch.incident ?? null]),
        [
          ['held', null],
          ['broke', id],
        ],
      );
      const { rows: deploys } = await db.db.query<{ evidence: { heightenedUntil: string } }>(
        "SELECT evidence FROM audit_events WHERE action = 'deploy.recorded'",
      );
      assert.ok(Date.parse(deploys[0]!.evidence.heightenedUntil) - Date.now() > 23 * 3_600_000);
      stopTraffic = true;
      await traffic;
    } finally {
      stopTraffic = true;
      prometheusProcess?.kill('SIGTERM');
      if (prometheusProcess && prometheusProcess.exitCode === null) await once(prometheusProcess, 'exit');
      service?.child.kill('SIGTERM');
      await service?.exited;
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives up as unwatched, not as healthy, when Prometheus cannot be read', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const watcher = new DeployWatcher(
      new PrometheusClient(closed),
      { forMs: 10_000, everyMs: 200, confirmations: 2, unreachableMs: 1_000 },
      new Date(),
    );
    const seen: string[] = [];
    const result = await watcher.run((check) => seen.push(check.unreachable ?? 'read'));
    assert.equal(result.verdict, 'unwatched');
    assert.equal(result.priority, null);
    assert.ok(seen.length >= 5 && seen.every((s) => /Prometheus at .* could not be reached/.test(s)), seen.join('\n'));

    // Unreadable only at the end, for less than the limit: still not "held".
    const short = new DeployWatcher(
      new PrometheusClient(closed),
      { forMs: 600, everyMs: 200, confirmations: 2, unreachableMs: 60_000 },
      new Date(),
    );
    assert.equal((await short.run(() => undefined)).verdict, 'unwatched');
  });
});
