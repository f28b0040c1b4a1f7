import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { buildProgram } from '../cli/index.ts';
import { migrationJob, OVERLAY_SPECS, replayCheckJob, SCHEDULED_JOBS } from '../manifests/index.ts';
import { projectRoot } from '../testing/index.ts';

/**
 * The workflows cannot run here (they need GitHub and a cluster), so what can be checked is
 * checked: the stages and their order, that every step is one command rather than an inline
 * script, that every action is pinned, and that every `entitle` command they call exists with the
 * options given and the ones it requires.
 */

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
}
interface Job {
  readonly needs?: string | string[];
  readonly steps?: Step[];
  readonly uses?: string;
  readonly with?: Record<string, unknown>;
  readonly environment?: unknown;
}
interface Workflow {
  readonly on: unknown;
  readonly jobs: Record<string, Job>;
}

const dir = join(projectRoot, '.github/workflows');

async function workflows(): Promise<Map<string, Workflow>> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yml'));
  return new Map(
    await Promise.all(files.map(async (f) => [f, parse(await readFile(join(dir, f), 'utf8')) as Workflow] as const)),
  );
}

/** Shell words of one command, quotes removed; GitHub expressions count as a single word. */
function words(command: string): string[] {
  const out: string[] = [];
  for (const match of command.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\$\{\{.*?\}\}\S*|\S+)/g))
    out.push(match[1] ?? match[2] ?? match[3]!);
  return out;
}

/** Each `npx entitle ...` in a step, split at the shell's && and | and $( ). */
function entitleCalls(run: string): string[][] {
  return run
    .split(/&&|\|\||\||\$\(|\)/)
    .map((part) => words(part.trim()))
    .filter((w) => w[0] === 'npx' && w[1] === 'entitle')
    .map((w) => w.slice(2));
}

function check(program: Command, args: string[]): string[] {
  const problems: string[] = [];
  let command = program;
  let i = 0;
  while (i < args.length) {
    const next = command.commands.find((c) => c.name() === args[i]);
    if (!next) break;
    command = next;
    i++;
  }
  if (command === program) return [`"entitle ${args.join(' ')}" names no command`];
  const given = new Set<string>();
  for (const word of args.slice(i)) {
    if (!word.startsWith('--')) continue;
    const flag = word.split('=')[0]!;
    const option = command.options.find((o) => o.long === flag);
    if (!option) problems.push(`"entitle ${command.name()}" has no option ${flag}`);
    else given.add(option.attributeName());
  }
  for (const option of command.options) {
    const fromEnv = option.envVar !== undefined;
    if (option.mandatory && !fromEnv && !given.has(option.attributeName()))
      problems.push(`"entitle ${command.name()}" needs ${option.long}`);
  }
  const positionals = args
    .slice(i)
    .filter(
      (w, at, all) =>
        !w.startsWith('--') &&
        !(at > 0 && all[at - 1]!.startsWith('--') && command.options.find((o) => o.long === all[at - 1])?.required),
    );
  const required = command.registeredArguments.filter((a) => a.required).length;
  if (positionals.length < required)
    problems.push(`"entitle ${command.name()}" needs ${required} argument(s), got ${positionals.length}`);
  return problems;
}

describe('delivery workflows', () => {
  it('run validate, then build and scan, then dev, staging and production in order, each deploy through the shared deploy workflow', async () => {
    const all = await workflows();
    const pipeline = all.get('pipeline.yml')!;
    const needs = (job: string) => [pipeline.jobs[job]!.needs ?? []].flat();
    assert.deepEqual(Object.keys(pipeline.jobs), ['validate', 'image', 'dev', 'staging', 'production']);
    assert.deepEqual(needs('image'), ['validate']);
    assert.ok(needs('dev').includes('image'));
    assert.ok(needs('staging').includes('dev'));
    assert.ok(needs('production').includes('staging'));
    for (const env of ['dev', 'staging', 'production'])
      assert.equal(pipeline.jobs[env]!.uses, './.github/workflows/deploy.yml');
    assert.equal(pipeline.jobs.staging!.with!['end-to-end'], true, 'staging runs the end-to-end journeys');

    const validate = pipeline.jobs.validate!.steps!.map((s) => s.run ?? '').join('\n');
    for (const expected of ['.ci/run', 'npm audit', 'entitle db check-migrations'])
      assert.ok(validate.includes(expected), `validate runs ${expected}`);
    assert.ok(
      pipeline.jobs.image!.steps!.some((s) => s.uses?.startsWith('aquasecurity/trivy-action')),
      'the image is scanned',
    );

    const deploy = all.get('deploy.yml')!.jobs.deploy!.steps!.map((s) => s.run ?? '');
    const at = (text: string) => deploy.findIndex((r) => r.includes(text));
    assert.ok(
      at('entitle deploy check-window') < at('kubectl apply -k'),
      'the freeze window is checked before anything changes',
    );
    assert.ok(
      at('job/entitle-migrate') < at('kubectl apply -k'),
      'migrations run before the new version takes traffic',
    );
    assert.ok(
      at('job/entitle-migrate') < at('job/entitle-replay-check') &&
        at('job/entitle-replay-check') < at('kubectl apply -k'),
      'the new build replays recorded decisions after the migration and before any pod of it serves',
    );
    assert.ok(
      at('entitle smoke') > at('argo rollouts status'),
      'the citizen journeys run against the promoted version',
    );
    assert.ok(
      deploy.some((r) => r.includes('entitle deploy record') && r.includes('--strategy ${{ inputs.strategy }}')),
      'every deploy is recorded',
    );
    const rollback = all.get('deploy.yml')!.jobs.deploy!.steps!.filter((s) => s.if?.includes('failure()'));
    assert.ok(
      rollback.some((s) => s.run?.includes('argo rollouts undo')) &&
        rollback.some((s) => s.run?.includes('--strategy rollback')),
      'a failed deploy is rolled back and the rollback recorded',
    );
    // The hour after promotion is watched, after the deploy is recorded, and a broken watch rolls back.
    const steps = all.get('deploy.yml')!.jobs.deploy!.steps!;
    const recordAt = steps.findIndex((s) => s.run?.includes('--strategy ${{ inputs.strategy }}'));
    const watchAt = steps.findIndex((s) => s.run?.includes('entitle deploy watch') && s.run.includes('--for 1h'));
    assert.ok(watchAt > recordAt && recordAt >= 0, 'entitle deploy watch --for 1h runs after the deploy is recorded');
    assert.ok(
      rollback.every((s) => s.if?.includes(`steps.${(steps[watchAt] as { id?: string }).id}.outcome == 'failure'`)),
      'a broken watch rolls back and records the rollback',
    );

    const rules = all.get('rules.yml')!;
    const ruleRuns = Object.values(rules.jobs)
      .flatMap((j) => j.steps ?? [])
      .map((s) => s.run ?? '')
      .join('\n');
    for (const expected of [
      'entitle rules test',
      'entitle release create',
      'entitle release backtest',
      'gh pr comment',
    ])
      assert.ok(ruleRuns.includes(expected), `the rules workflow runs ${expected}`);
  });

  it('call real entitle commands with real options, one command per step, and pin every action', async () => {
    const program = buildProgram();
    const problems: string[] = [];
    let calls = 0;
    for (const [file, workflow] of await workflows()) {
      for (const [name, job] of Object.entries(workflow.jobs)) {
        for (const step of job.steps ?? []) {
          const where = `${file} ${name} "${step.name ?? step.run ?? step.uses}"`;
          if (step.uses && !/@(v\d+(\.\d+)*|[0-9a-f]{40}|\d+\.\d+\.\d+)$/.test(step.uses))
            problems.push(`${where}: ${step.uses} is not pinned to a release`);
          if (!step.run) continue;
          if (step.run.trim().includes('\n')) problems.push(`${where}: a multi-line script; make it a command`);
          for (const args of entitleCalls(step.run)) {
            calls++;
            problems.push(...check(program, args).map((p) => `${where}: ${p}`));
          }
        }
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(calls >= 12, `the workflows call entitle (${calls} calls)`);
  });

  it('record each environment under the strategy its overlay deploys with', async () => {
    const pipeline = (await workflows()).get('pipeline.yml')!;
    const deploys = Object.values(pipeline.jobs).filter((j) => j.uses === './.github/workflows/deploy.yml');
    assert.equal(deploys.length, 3);
    for (const job of deploys) {
      const { overlay, strategy } = job.with as { overlay: keyof typeof OVERLAY_SPECS; strategy: string };
      assert.equal(strategy, OVERLAY_SPECS[overlay].strategy === 'blueGreen' ? 'blue-green' : 'canary', overlay);
    }
  });

  it('run real entitle commands in the Kubernetes Jobs and the scheduled jobs', () => {
    const program = buildProgram();
    const jobs = [
      ...SCHEDULED_JOBS.map((j) => [j.name, j.args] as const),
      ...[migrationJob(), replayCheckJob()].map(
        (j) => [j.metadata!.name!, j.spec!.template.spec!.containers[0]!.args!] as const,
      ),
    ];
    assert.deepEqual(
      jobs.flatMap(([name, args]) => check(program, [...args]).map((p) => `${name}: ${p}`)),
      [],
    );
    assert.ok(jobs.length >= 6);
  });

  it('would notice a command or option that does not exist', () => {
    const program = buildProgram();
    assert.match(check(program, ['nothing'])[0]!, /names no command/);
    assert.match(check(program, ['smoke', '--uri', 'x']).join(), /has no option --uri/);
    assert.match(check(program, ['deploy', 'record', '--version', '1']).join(), /needs --environment/);
    assert.match(check(program, ['env', 'diff', 'staging']).join(), /needs 2 argument/);
    assert.match(
      check(program, ['release', 'create', '--benefit', 'universal-credit', '--rules', 'r', '--summary', 's']).join(),
      /needs --effective/,
    );
  });
});
