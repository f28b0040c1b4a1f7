import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { buildProgram } from '../cli/index.ts';
import { startService } from '../service/index.ts';
import { SLOS, TIERS } from '../slos/index.ts';
import { migrate, openPglite } from '../store/index.ts';
import { testService } from '../testing/index.ts';
import {
  alertNames,
  DASHBOARD_FILE,
  generate,
  generatedFiles,
  ruleGroups,
  RULES_FILE,
  RUNBOOKS_DIR,
  TESTS_DIR,
} from './index.ts';

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
        assert.ok(
          rule.annotations.citizen_impact && rule.annotations.summary && rule.annotations.description,
          rule.alert,
        );
        assert.equal(rule.annotations.runbook_url, `docs/runbooks/${rule.alert}.md`);
        assert.doesNotMatch(
          rule.expr,
          /application_id|applicationId|household/,
          'alerts never select on personal data',
        );
      }
    }
  });

  it('tests every alert with series that fire, that must not fire, and with too little traffic', () => {
    const files = generatedFiles();
    for (const alert of alertNames(ruleGroups())) {
      const text = files.get(`${TESTS_DIR}/${alert}.test.yml`);
      assert.ok(text, `${alert} has no promtool tests`);
      const { tests } = parse(text) as { tests: { alert_rule_test: { exp_alerts: unknown[] }[] }[] };
      assert.ok(
        tests.some((t) => t.alert_rule_test.some((a) => a.exp_alerts.length > 0)),
        `${alert}: no test makes it fire`,
      );
      assert.ok(
        tests.filter((t) => t.alert_rule_test.every((a) => a.exp_alerts.length === 0)).length >= 2,
        `${alert}: needs a quiet test and a low-traffic or idle test`,
      );
    }
  });

  it('switches tiers off for every SLO when asked', () => {
    const alerts = ruleGroups({ disabledTiers: ['ticket-slow'] })
      .flatMap((g) => g.rules)
      .filter((r) => 'alert' in r && r.labels.tier);
    assert.equal(alerts.length, SLOS.length * (TIERS.length - 1));
    assert.ok(!alerts.some((r) => 'alert' in r && r.labels.tier === 'ticket-slow'));
  });

  it('passes promtool: the rules check with linting fatal, and every alert test passes', async (t) => {
    if (!(await promtool())) return t.skip('promtool is not installed here');
    await run('promtool', ['check', 'rules', '--lint=all', '--lint-fatal', join(root, RULES_FILE)]);
    const { stdout } = await run('promtool', [
      'test',
      'rules',
      ...[...generatedFiles().keys()].filter((p) => p.startsWith(TESTS_DIR)).map((p) => join(root, p)),
    ]);
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
  const service = await startService({
    store: { dataDir: join(dir, 'data') },
    rulesDir: join(root, 'rulesets'),
    host: '127.0.0.1',
    port: 0,
    shutdownGraceMs: 0,
    logLevel: 'silent',
  });
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
    for (const alert of alertNames(ruleGroups()))
      assert.ok(files.has(`${RUNBOOKS_DIR}/${alert}.md`), `${alert} has no runbook`);
  });

  it('name only commands, options, endpoints, metrics and tables that exist', async () => {
    const program = buildProgram();
    const metrics = await exportedMetrics();
    const db = await openPglite(undefined);
    await migrate(db);
    const { rows } = await db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
    );
    await db.close();
    const tables = new Set([...rows.map((r) => r.table_name), 'pg_stat_activity']);
    const service = await testService();
    const app = service.app;
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
              if (!at.options.some((o) => o.long === option))
                problems.push(`${path}: "${command}": no option ${option}`);
              continue;
            }
            if (!/^[a-z]/.test(word)) continue;
            const next = at.commands.find((c) => c.name() === word);
            if (next) at = next;
            else if (at.commands.length > 0) problems.push(`${path}: "${command}": no command ${word}`);
          }
        }
        for (const [, route] of command.matchAll(/\$ENTITLE_URL(\/[a-z0-9/]*)/g)) {
          const response = await app.inject({ method: 'GET', url: route! });
          if (response.statusCode === 404) problems.push(`${path}: no endpoint ${route}`);
        }
        for (const [, table] of command.matchAll(/\b(?:FROM|JOIN|UPDATE|INTO)\s+([a-z_]+)/g))
          if (!tables.has(table!)) problems.push(`${path}: no table ${table}`);
      }
      for (const [name] of text.matchAll(/\b(?:entitle|nodejs|process)_[a-z0-9_]+/g))
        if (!metrics.has(metricOf(name))) problems.push(`${path}: no metric ${name}`);
    }
    // The dashboard's queries: a panel on a metric nobody exports would stay empty.
    for (const [name] of (files.get(DASHBOARD_FILE) ?? '').matchAll(/\b(?:entitle|nodejs)_[a-z0-9_]+/g))
      if (!metrics.has(metricOf(name))) problems.push(`dashboard: no metric ${name}`);
    // The alert rules themselves: an alert on a metric nobody exports would never fire.
    for (const rule of ruleGroups().flatMap((g) => g.rules)) {
      for (const [name] of rule.expr.matchAll(/\b(?:entitle|nodejs)_[a-z0-9_]+/g))
        if (!metrics.has(metricOf(name))) problems.push(`rules: no metric ${name}`);
    }
    await service.close();
    assert.deepEqual(problems, []);
  });
});

describe('dashboards', () => {
  it("put citizens first: the first panels are assessments completed and failed, then every journey's budget", () => {
    const dashboard = JSON.parse(generatedFiles().get(DASHBOARD_FILE)!) as {
      panels: { type: string; title: string; targets?: { expr: string; datasource: { uid: string } }[] }[];
    };
    const titles = dashboard.panels.filter((p) => p.type !== 'row').map((p) => p.title);
    assert.deepEqual(titles.slice(0, 2), ['Assessments completed a minute', 'Assessments failed a minute']);
    for (const slo of SLOS) assert.ok(titles.includes(`Budget left: ${slo.journey}`), slo.id);
    for (const title of [
      'Assessment latency',
      'Active rule-set version per benefit',
      'Releases under test: share of comparisons by kind',
      'Decision write latency',
    ])
      assert.ok(titles.includes(title), title);
    assert.ok(dashboard.panels.flatMap((p) => p.targets ?? []).every((t) => t.datasource.uid === '${datasource}'));
  });
});
