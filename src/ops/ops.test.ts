import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { buildProgram } from '../cli/index.ts';
import { runEntitle, testService } from '../testing/index.ts';
import { startService } from '../service/index.ts';
import { migrate, openPglite } from '../store/index.ts';
import { EntitleError } from '../errors/index.ts';
import { createKey } from '../keys/index.ts';
import { alertNames, DASHBOARD_FILE, formatSmoke, formatStatus, generate, generatedFiles, Probe, PrometheusClient, ruleGroups, smoke, statusFromPrometheus, RULES_FILE, RUNBOOKS_DIR, SLOS, statusFromService, TESTS_DIR } from './index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** promtool from the Debian package; CI installs it, so there it must be present. */
async function promtool(): Promise<boolean> {
  try {
    await run('promtool', ['--version']);
    return true;
  } catch {
    if (process.env.CI) throw new Error('promtool is not installed: .ci/run installs the Debian package prometheus');
    return false;
  }
}

describe('operations as code', () => {
  it('keeps the committed rules, tests and Alertmanager configuration current', async () => {
    const { stale } = await generate(root, {}, true);
    assert.deepEqual(stale, [], 'run "entitle ops generate" and commit');
  });

  it('gives every alert a priority, a citizen impact and a runbook link, and no personal data', () => {
    for (const group of ruleGroups()) {
      for (const rule of group.rules) {
        if (!('alert' in rule)) continue;
        assert.match(rule.labels.priority ?? '', /^P[1-4]$/, rule.alert);
        assert.ok(rule.annotations.citizen_impact && rule.annotations.summary && rule.annotations.description, rule.alert);
        assert.equal(rule.annotations.runbook_url, `docs/runbooks/${rule.alert}.md`);
        assert.doesNotMatch(rule.expr, /application_id|applicationId|household/, 'alerts never select on personal data');
      }
    }
  });

  it('tests every alert with series that fire, that must not fire, and with too little traffic', () => {
    const files = generatedFiles();
    for (const alert of alertNames(ruleGroups())) {
      const text = files.get(`${TESTS_DIR}/${alert}.test.yml`);
      assert.ok(text, `${alert} has no promtool tests`);
      const { tests } = parse(text) as { tests: { alert_rule_test: { exp_alerts: unknown[] }[] }[] };
      assert.ok(tests.some((t) => t.alert_rule_test.some((a) => a.exp_alerts.length > 0)), `${alert}: no test makes it fire`);
      assert.ok(tests.filter((t) => t.alert_rule_test.every((a) => a.exp_alerts.length === 0)).length >= 2, `${alert}: needs a quiet test and a low-traffic or idle test`);
    }
  });

  it('switches tiers off for every SLO when asked', () => {
    const alerts = ruleGroups({ disabledTiers: ['ticket-slow'] }).flatMap((g) => g.rules).filter((r) => 'alert' in r && r.labels.tier);
    assert.equal(alerts.length, SLOS.length * 3);
  });

  it('passes promtool: the rules check with linting fatal, and every alert test passes', async (t) => {
    if (!(await promtool())) return t.skip('promtool is not installed here');
    await run('promtool', ['check', 'rules', '--lint=all', '--lint-fatal', join(root, RULES_FILE)]);
    const { stdout } = await run('promtool', ['test', 'rules', ...[...generatedFiles().keys()].filter((p) => p.startsWith(TESTS_DIR)).map((p) => join(root, p))]);
    assert.doesNotMatch(stdout, /FAILED/);
  });

  it('catches a wrong threshold: promtool fails when the rules do not match their tests', async (t) => {
    if (!(await promtool())) return t.skip('promtool is not installed here');
    const dir = await mkdtemp(join(tmpdir(), 'entitle-ops-'));
    try {
      // A copy of the generated files with the fast page's threshold raised tenfold.
      const files = generatedFiles();
      for (const [path, text] of files) {
        await mkdir(join(dir, path, '..'), { recursive: true });
        await writeFile(join(dir, path), path === RULES_FILE ? text.replaceAll('> 0.0144\n', '> 0.144\n') : text);
      }
      const test = join(dir, TESTS_DIR, 'EntitleAssessmentAvailabilityBudgetBurn.test.yml');
      await assert.rejects(run('promtool', ['test', 'rules', test]), /FAILED/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Names of every metric a running service exports (HELP lines list metrics with no samples yet). */
async function exportedMetrics(): Promise<Set<string>> {
  const dir = await mkdtemp(join(tmpdir(), 'entitle-ops-metrics-'));
  const service = await startService({ store: { dataDir: join(dir, 'data') }, rulesDir: join(root, 'rulesets'), host: '127.0.0.1', port: 0, shutdownGraceMs: 0, logLevel: 'silent' });
  try {
    const text = await (await fetch(`${service.address}/metrics`)).text();
    return new Set([...text.matchAll(/^# HELP (\S+)/gm)].map((m) => m[1]!));
  } finally {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const metricOf = (name: string) => name.replace(/_(sum|count|bucket)$/, '');

describe('runbooks', () => {
  const files = generatedFiles();
  const runbooks = [...files].filter(([path]) => path.startsWith(`${RUNBOOKS_DIR}/`));

  it('exist for every alert', () => {
    for (const alert of alertNames(ruleGroups())) assert.ok(files.has(`${RUNBOOKS_DIR}/${alert}.md`), `${alert} has no runbook`);
  });

  it('name only commands, options, endpoints, metrics and tables that exist', async () => {
    const program = buildProgram();
    const metrics = await exportedMetrics();
    const db = await openPglite(undefined);
    await migrate(db);
    const { rows } = await db.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
    await db.close();
    const tables = new Set([...rows.map((r) => r.table_name), 'pg_stat_activity']);
    const app = (await testService()).app;
    const problems: string[] = [];
    for (const [path, text] of runbooks) {
      // Leading VAR=value settings are the shell's; the command follows them.
      const commands = [...text.matchAll(/```sh\n\s*(.+)\n/g)].map((m) => m[1]!.replace(/^([A-Z_]+=\S+\s+)+/, ''));
      for (const command of commands) {
        if (command.startsWith('entitle ')) {
          const words = command.split(/\s+/).slice(1);
          let at = program;
          for (const word of words) {
            if (word.startsWith('-')) {
              const option = word.split('=')[0]!;
              if (!at.options.some((o) => o.long === option)) problems.push(`${path}: "${command}": no option ${option}`);
              continue;
            }
            if (!/^[a-z]/.test(word)) continue;
            const next = at.commands.find((c) => c.name() === word);
            if (next) at = next;
            else if (at.commands.length > 0) problems.push(`${path}: "${command}": no command ${word}`);
          }
        }
        for (const [, route] of command.matchAll(/\$ENTITLE_URL(\/[a-z/]*)/g)) {
          const response = await app.inject({ method: 'GET', url: route! });
          if (response.statusCode === 404) problems.push(`${path}: no endpoint ${route}`);
        }
        for (const [, table] of command.matchAll(/\b(?:FROM|JOIN|UPDATE|INTO)\s+([a-z_]+)/g)) if (!tables.has(table!)) problems.push(`${path}: no table ${table}`);
      }
      for (const [name] of text.matchAll(/\b(?:entitle|nodejs|process)_[a-z0-9_]+/g)) if (!metrics.has(metricOf(name))) problems.push(`${path}: no metric ${name}`);
    }
    // The dashboard's queries: a panel on a metric nobody exports would stay empty.
    for (const [name] of (files.get(DASHBOARD_FILE) ?? '').matchAll(/\b(?:entitle|nodejs)_[a-z0-9_]+/g)) if (!metrics.has(metricOf(name))) problems.push(`dashboard: no metric ${name}`);
    // The alert rules themselves: an alert on a metric nobody exports would never fire.
    for (const rule of ruleGroups().flatMap((g) => g.rules)) {
      for (const [name] of rule.expr.matchAll(/\b(?:entitle|nodejs)_[a-z0-9_]+/g)) if (!metrics.has(metricOf(name))) problems.push(`rules: no metric ${name}`);
    }
    assert.deepEqual(problems, []);
  });
});

describe('dashboards', () => {
  it('put citizens first: the first panels are assessments completed and failed, then every journey\'s budget', () => {
    const dashboard = JSON.parse(generatedFiles().get(DASHBOARD_FILE)!) as { panels: { type: string; title: string; targets?: { expr: string; datasource: { uid: string } }[] }[] };
    const titles = dashboard.panels.filter((p) => p.type !== 'row').map((p) => p.title);
    assert.deepEqual(titles.slice(0, 2), ['Assessments completed a minute', 'Assessments failed a minute']);
    for (const slo of SLOS) assert.ok(titles.includes(`Budget left: ${slo.journey}`), slo.id);
    for (const title of ['Assessment latency', 'Active rule-set version per benefit', 'Releases under test: share of comparisons by kind', 'Decision write latency']) assert.ok(titles.includes(title), title);
    assert.ok(dashboard.panels.flatMap((p) => p.targets ?? []).every((t) => t.datasource.uid === '${datasource}'));
  });
});

describe('entitle status without Prometheus', () => {
  it('summarises from the service\'s own metrics and the audit log, and says what it cannot know', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-ops-status-'));
    const service = await startService({ store: { dataDir: join(dir, 'data') }, rulesDir: join(root, 'rulesets'), host: '127.0.0.1', port: 0, shutdownGraceMs: 0, logLevel: 'silent' });
    try {
      const { key } = await createKey(service.db, 'status-test', ['assessor']);
      const input = await readFile(join(root, 'examples/universal-credit.json'), 'utf8');
      for (let i = 0; i < 3; i++) await fetch(`${service.address}/v1/assessments`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: input });
      const report = await statusFromService(service.address, service.db);
      assert.equal(report.verdict, 'HEALTHY');
      assert.equal(report.source, 'service');
      assert.equal(report.journeys.find((j) => j.slo === 'assessment_availability')?.budgetLeft, 1);
      assert.equal(report.journeys.find((j) => j.slo === 'assessment_latency')?.budgetLeft, null, 'no windows without Prometheus');
      assert.ok(report.changes.some((c) => c.what === 'ruleset.first_active'), 'the first rule set served is a change of the last 7 days');
      assert.match(formatStatus(report), /^HEALTHY {2}\(from the service's own metrics, since it started; set PROMETHEUS_URL for burn rates and alerts/);

      // A wrong address is the operator's to fix: a clear error naming the setting, not a fault.
      const unreachable = (field: string) => (error: unknown) => error instanceof EntitleError && error.code === 'ENTITLE_SOURCE_UNREACHABLE' && error.problems[0]?.field === field;
      await assert.rejects(statusFromService('http://127.0.0.1:9', service.db), unreachable('ENTITLE_URL'));
      await assert.rejects(statusFromPrometheus(new PrometheusClient('http://127.0.0.1:9'), service.db), unreachable('PROMETHEUS_URL'));
    } finally {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('entitle probe', () => {
  it('runs the synthetic journey against a live service, marks its household, and reports a broken step', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-ops-probe-'));
    const service = await startService({ store: { dataDir: join(dir, 'data') }, rulesDir: join(root, 'rulesets'), host: '127.0.0.1', port: 0, shutdownGraceMs: 0, logLevel: 'silent' });
    try {
      const { key } = await createKey(service.db, 'probe', ['assessor', 'caseworker']);
      const probe = new Probe(service.address, key);
      const result = await probe.run();
      assert.equal(result.ok, true, JSON.stringify(result.failure));
      const { rows } = await service.db.query<{ application_id: string }>('SELECT application_id FROM decisions WHERE id = $1', [result.decisionId]);
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
    const service = await startService({ store: { dataDir: join(dir, 'data') }, rulesDir: join(root, 'rulesets'), host: '127.0.0.1', port: 0, shutdownGraceMs: 0, logLevel: 'silent', testFaults: true });
    try {
      const { key } = await createKey(service.db, 'smoke', ['assessor', 'caseworker']);
      const passed = await runEntitle(['smoke', '--url', service.address], { ENTITLE_SMOKE_KEY: key });
      assert.equal(passed.code, 0, passed.stdout);
      assert.match(passed.stdout, /^PASSED {2}smoke test of http:\/\/127\.0\.0\.1:\d+ in \d+\.\d s\n/);
      for (const step of ['health', 'ready', 'metrics', 'assess', 'fetch', 'replay']) assert.match(passed.stdout, new RegExp(`ok {5}${step}`));

      // The database fails: the report says which journeys broke, and how.
      const admin = (await createKey(service.db, 'smoke-admin', ['admin'])).key;
      await fetch(`${service.address}/test/faults`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ database: 'down' }) });
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
