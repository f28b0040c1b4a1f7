// End to end with the real components: `entitle serve` on PostgreSQL, scraped by the Debian
// Prometheus running the generated rules (an hour lasting a minute), which sends to the Debian
// Alertmanager with the generated inhibition, which delivers to a webhook receiver here. The
// database is made to fail through the test-only switch, and the fast-burn page must arrive.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { Incident } from '../incidents/index.ts';
import { createKey } from '../keys/index.ts';
import type { StatusReport } from '../monitoring/index.ts';
import { createRelease } from '../releases/index.ts';
import { SLOS } from '../slos/index.ts';
import {
  compile,
  eventually,
  freePort,
  installed,
  runEntitle,
  spawnServer,
  taper,
  testDatabases,
  ucBundle,
  type ServerProcess,
} from '../testing/index.ts';
import { alertmanagerConfig, burnAlertName, citizenDashboard, ruleGroups } from './index.ts';

const AVAILABILITY = burnAlertName(SLOS.find((s) => s.id === 'assessment_availability')!);

interface Notification {
  readonly status: 'firing' | 'resolved';
  readonly alerts: readonly { status: string; labels: Record<string, string>; annotations: Record<string, string> }[];
}

describe('alerting end to end', { timeout: 240_000 }, () => {
  it('pages through real Prometheus and Alertmanager within seconds of the database failing, inhibits the slower tiers, and resolves', async (t) => {
    if (!(await installed('prometheus')) || !(await installed('prometheus-alertmanager'))) {
      if (process.env.CI)
        throw new Error('prometheus and prometheus-alertmanager must be installed: .ci/run installs them');
      return t.skip('prometheus or prometheus-alertmanager is not installed here');
    }
    const db = await testDatabases.postgres();
    const dir = await mkdtemp(join(tmpdir(), 'entitle-alerting-'));
    const children: ChildProcess[] = [];
    let service: ServerProcess | undefined;
    let receiver: Server | undefined;
    let stopTraffic = false;
    try {
      const notifications: Notification[] = [];
      receiver = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          notifications.push(JSON.parse(body) as Notification);
          response.end();
        });
      });
      receiver.listen(0, '127.0.0.1');
      await once(receiver, 'listening');
      const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`;

      service = await spawnServer({ DATABASE_URL: db.url!, ENTITLE_TEST_FAULTS: 'on', LOG_LEVEL: 'warn' });
      const admin = (await createKey(db.db, 'alerting-admin', ['admin'])).key;
      const assessor = (await createKey(db.db, 'alerting-front-end', ['assessor'])).key;
      const operator = (await createKey(db.db, 'alerting-operator', ['operator'])).key;
      // Alertmanager sends to the service's incident webhook with its own key, and to the
      // receiver here, which shows what it sent.
      await writeFile(join(dir, 'alertmanager-key'), (await createKey(db.db, 'alertmanager', ['alertmanager'])).key);

      const [promPort, amPort] = [await freePort(), await freePort()];
      await writeFile(join(dir, 'rules.yml'), stringify({ groups: ruleGroups({ timeScale: 60 }) }, { lineWidth: 0 }));
      const amConfig = alertmanagerConfig(
        { url: `${service.url}/v1/alerts/alertmanager`, keyFile: join(dir, 'alertmanager-key') },
        { groupWait: '1s', groupInterval: '1s', repeatInterval: '1h' },
      ) as { receivers: { webhook_configs: object[] }[] };
      amConfig.receivers[0]!.webhook_configs.push({ url: webhook, send_resolved: true });
      await writeFile(join(dir, 'alertmanager.yml'), stringify(amConfig));
      await writeFile(
        join(dir, 'prometheus.yml'),
        stringify({
          global: { scrape_interval: '1s', evaluation_interval: '1s' },
          rule_files: ['rules.yml'],
          alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
          scrape_configs: [{ job_name: 'entitle', static_configs: [{ targets: [new URL(service.url).host] }] }],
        }),
      );
      const start = (binary: string, args: string[]) => {
        const child = spawn(binary, args, { stdio: 'ignore' });
        children.push(child);
        return child;
      };
      start('prometheus-alertmanager', [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'am')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
      ]);
      start('prometheus', [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'prom')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ]);
      const prometheus = `http://127.0.0.1:${promPort}`;
      await eventually(
        'Prometheus to scrape the service',
        async () => {
          const response = await fetch(`${prometheus}/api/v1/query?query=up{job="entitle"}`).catch(() => undefined);
          const body = response?.ok
            ? ((await response.json()) as { data: { result: { value: [number, string] }[] } })
            : undefined;
          return body?.data.result[0]?.value[1] === '1' ? true : undefined;
        },
        30_000,
        250,
      );

      // Every dashboard query is valid PromQL for this Prometheus (a typo would leave a panel empty).
      for (const panel of citizenDashboard().panels ?? []) {
        for (const target of ('targets' in panel ? (panel.targets ?? []) : []) as { expr?: string }[]) {
          const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(target.expr!)}`);
          assert.equal(response.status, 200, `${target.expr}: ${await response.text()}`);
        }
      }

      // Steady traffic, as a front end would send it.
      const input = await readFile(
        fileURLToPath(new URL('../../examples/universal-credit.json', import.meta.url)),
        'utf8',
      );
      const statuses = new Map<number, number>();
      const traffic = (async () => {
        while (!stopTraffic) {
          try {
            const response = await fetch(`${service.url}/v1/assessments`, {
              method: 'POST',
              headers: { authorization: `Bearer ${assessor}`, 'content-type': 'application/json' },
              body: input,
            });
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
            await response.arrayBuffer();
          } catch {
            statuses.set(0, (statuses.get(0) ?? 0) + 1);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await new Promise((r) => setTimeout(r, 8_000));
      assert.equal(notifications.length, 0, 'nothing is sent while the service is healthy');
      const status = async () => {
        const result = await runEntitle(['status', '--json'], { PROMETHEUS_URL: prometheus, DATABASE_URL: db.url! });
        return { code: result.code, report: JSON.parse(result.stdout) as StatusReport };
      };
      const healthy = await status();
      assert.equal(healthy.report.verdict, 'HEALTHY', JSON.stringify(healthy.report.alerts));
      assert.equal(healthy.code, 0);
      assert.equal(healthy.report.journeys.find((j) => j.slo === 'assessment_availability')?.burnRate1h, 0);

      // A change just before the failure: the summary should point at it.
      const candidate = compile(taper(await ucBundle(), '56%'));
      const release = await createRelease(db.db, {
        program: candidate.program,
        author: 'alice',
        summary: 'taper',
        effectiveAt: new Date().toISOString(),
        expectations: { changes: [] },
        golden: { total: 1, failed: [] },
      });

      const fault = (state: 'down' | 'up') =>
        fetch(`${service!.url}/test/faults`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: JSON.stringify({ database: state }),
        });
      assert.equal((await fault('down')).status, 200);
      const brokeAt = Date.now();
      const page = await eventually(
        'the fast-burn page',
        () =>
          Promise.resolve(
            notifications.find(
              (n) =>
                n.status === 'firing' &&
                n.alerts.some((a) => a.labels.alertname === AVAILABILITY && a.labels.tier === 'page-fast'),
            ),
          ),
        60_000,
        200,
      );
      const seconds = (Date.now() - brokeAt) / 1000;
      t.diagnostic(`page delivered ${seconds.toFixed(1)} s after the database failed`);
      const alert = page.alerts.find((a) => a.labels.tier === 'page-fast')!;
      assert.equal(alert.labels.priority, 'P1');
      assert.equal(alert.labels.severity, 'page');
      assert.equal(alert.annotations.runbook_url, `docs/runbooks/${AVAILABILITY}.md`);
      assert.ok(statuses.get(503)! > 0, 'citizens were told to try again, never given an unrecorded decision');

      const unhealthy = await status();
      assert.equal(unhealthy.report.verdict, 'UNHEALTHY');
      assert.equal(unhealthy.code, 1);
      assert.ok(
        unhealthy.report.alerts.some((a) => a.alert === AVAILABILITY && a.tier === 'page-fast' && a.priority === 'P1'),
      );
      assert.ok(unhealthy.report.journeys.find((j) => j.slo === 'assessment_availability')!.burnRate1h! > 14.4);
      assert.ok(
        unhealthy.report.correlations.some((c) => c.alert === AVAILABILITY && c.change.subject === release.id),
        'the alert is tied to the release made just before it',
      );
      const text = await runEntitle(['status'], { PROMETHEUS_URL: prometheus, DATABASE_URL: db.url! });
      assert.match(text.stdout, /^UNHEALTHY {2}\(from Prometheus/);
      assert.match(
        text.stdout,
        new RegExp(
          `${AVAILABILITY} started .*, within 30 minutes after release\\.(created|validated) of ${release.id}`,
        ),
      );

      // page-slow's `for` (15 s here) passes while page-fast fires: Alertmanager holds it back.
      const alertmanager = `http://127.0.0.1:${amPort}`;
      const inhibited = await eventually(
        'the slower tier to be inhibited',
        async () => {
          const alerts = (await (
            await fetch(`${alertmanager}/api/v2/alerts?inhibited=true&silenced=false&active=true`)
          ).json()) as { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }[];
          return alerts.find(
            (a) =>
              a.labels.alertname === AVAILABILITY &&
              a.labels.tier === 'page-slow' &&
              a.status.state === 'suppressed' &&
              a.status.inhibitedBy.length > 0,
          );
        },
        60_000,
        500,
      );
      assert.ok(inhibited);
      assert.ok(
        !notifications.some((n) =>
          n.alerts.some((a) => a.labels.alertname === AVAILABILITY && a.labels.tier !== 'page-fast'),
        ),
        'only the fast page was delivered for this SLO',
      );

      assert.equal((await fault('up')).status, 200);

      // The incident webhook needs the database too: while it was down the page reached on-call
      // directly, and Alertmanager retried the webhook until the incident could be recorded.
      const opened = await eventually(
        'the incident Alertmanager opened',
        async () => {
          const response = await fetch(`${service!.url}/v1/incidents?open=true`, {
            headers: { authorization: `Bearer ${operator}` },
          });
          if (!response.ok) return undefined;
          const { incidents } = (await response.json()) as { incidents: Incident[] };
          return incidents.find((i) => i.source === 'alertmanager' && i.journeys.includes('assessment_availability'));
        },
        30_000,
        250,
      );
      t.diagnostic(
        `incident ${opened.id} recorded ${((Date.parse(opened.declaredAt) - brokeAt) / 1000).toFixed(1)} s after the database failed`,
      );
      assert.equal(opened.priority, 'P1');
      assert.equal(opened.runbook, `docs/runbooks/${AVAILABILITY}.md`);
      // On-call runs the incident from the command line, through the service, with their own key.
      const incident = (args: string[]) =>
        runEntitle(['incident', ...args], { ENTITLE_URL: service!.url, ENTITLE_API_KEY: operator });
      for (const args of [
        ['ack', opened.id],
        ['assign', opened.id, '--role', 'incident-lead', '--person', 'Asha'],
        ['assign', opened.id, '--role', 'communications-lead', '--person', 'Ben'],
        // The timeline shows when failures began; the impact window starts there.
        [
          'update',
          opened.id,
          '--status',
          'monitoring',
          '--started',
          new Date(brokeAt - 1_000).toISOString(),
          '--text',
          'The database refused connections and is back; watching',
        ],
        ['comms', opened.id, '--audience', 'citizens', '--publish'],
      ]) {
        const result = await incident(args);
        assert.equal(result.code, 0, `entitle incident ${args.join(' ')}: ${result.stderr}`);
      }
      const statusPage = () => fetch(`${service!.url}/status`).then((r) => r.text());
      await eventually(
        'the status page to show the problem and the message',
        async () => {
          const page = await statusPage();
          return /Not working/.test(page) &&
            /You may not be able to get a decision about your benefit at the moment/.test(page)
            ? page
            : undefined;
        },
        15_000,
        500,
      );

      // The page resolves on its own (its group may still hold slower tiers, firing until their
      // own windows clear, so the alert's status is what counts).
      await eventually(
        'the page to resolve',
        () =>
          Promise.resolve(
            notifications.find((n) =>
              n.alerts.some(
                (a) => a.labels.alertname === AVAILABILITY && a.labels.tier === 'page-fast' && a.status === 'resolved',
              ),
            ),
          ),
        90_000,
        500,
      );
      assert.doesNotMatch(
        JSON.stringify(notifications),
        /APP-0001|1995-03-01|2019-03-02/,
        'no personal data in any alert',
      );

      // The citizen tries again and is decided; failed assessments reach the database within a second.
      await eventually('a decision after the recovery', () =>
        Promise.resolve(statuses.get(201)! > 0 ? true : undefined),
      );
      stopTraffic = true;
      await traffic;
      await new Promise((r) => setTimeout(r, 2_000));
      const resolved = await incident([
        'resolve',
        opened.id,
        '--text',
        'Database back; assessments are recorded again (checked with entitle status)',
      ]);
      assert.equal(resolved.code, 0, resolved.stderr);
      await eventually(
        'the status page to show the resolution',
        async () => {
          const page = await statusPage();
          return /has been fixed/.test(page) ? page : undefined;
        },
        15_000,
        500,
      );
      const out = join(dir, 'review.md');
      const reviewed = await incident(['review', opened.id, '--out', out]);
      assert.equal(reviewed.code, 0, reviewed.stderr);
      const review = await readFile(out, 'utf8');
      // Every 503 a citizen saw is counted, and the one application was decided after the outage.
      assert.match(
        review,
        new RegExp(`\\| Assessments that failed \\(the service's fault\\) \\| ${statuses.get(503)} \\|`),
        review,
      );
      assert.match(review, /\| Applications with a failed assessment \| 1 \|/);
      assert.match(review, /\| \.\.\. of which decided later \| 1 \|/);
      assert.match(review, /\| \.\.\. still without a decision: to recontact \| 0 \|/);
      assert.match(review, /Alert EntitleAssessmentAvailabilityBudgetBurn firing/);
      assert.match(
        review,
        /\| assessments \| \d+ decided, [1-9]\d* failed \|/,
        'the per-minute counts show the outage',
      );
      assert.doesNotMatch(review, /1995-03-01|2019-03-02/, 'no personal data in the review');

      const report = await runEntitle(['report', 'weekly'], { PROMETHEUS_URL: prometheus, DATABASE_URL: db.url! });
      assert.equal(report.code, 0, report.stderr);
      assert.match(report.stdout, /\| A citizen gets an assessment \| 99\.9% \| \d+\.\d+% good \| \d+\.\d\dx/);
      assert.match(report.stdout, /\| 503 \| [\d,]+ \|/, 'the failed assessments are counted by kind');
      assert.match(report.stdout, /1 created, 0 made active, 0 rolled back/);
      assert.match(
        report.stdout,
        new RegExp(`\\| ${opened.id} \\| P1 \\| .* \\| resolved \\| due `),
        "the week's incidents are listed",
      );
    } finally {
      stopTraffic = true;
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : Promise.resolve())));
      service?.child.kill('SIGTERM');
      await service?.exited;
      receiver?.close();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
