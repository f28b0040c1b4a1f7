import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { alertNames, generate, generatedFiles, ruleGroups, RULES_FILE, SLOS, TESTS_DIR } from './index.ts';

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
