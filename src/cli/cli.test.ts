import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { projectRoot, runEntitle } from '../testing/index.ts';
import { buildProgram, COMMAND_MODULES, renderCliDocs } from './index.ts';
import { baseProgram } from './base.ts';

const root = projectRoot;
const example = join(root, 'examples/universal-credit.json');
const entitle = (...args: string[]) => runEntitle(args);

async function tempFile(name: string, text: string): Promise<{ path: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'entitle-cli-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return { path, done: () => rm(dir, { recursive: true }) };
}

describe('entitle command', () => {
  it('loads, for each command run, the module that defines exactly that command', async () => {
    const tree = buildProgram().commands.map((c) => c.name());
    assert.deepEqual(
      Object.keys(COMMAND_MODULES).sort(),
      [...tree].sort(),
      'every command has its module, and no more',
    );
    for (const [name, load] of Object.entries(COMMAND_MODULES)) {
      const program = baseProgram();
      (await load())(program);
      assert.ok(
        program.commands.some((c) => c.name() === name),
        `${name}'s module defines ${name}`,
      );
    }
  });

  it('takes --json on every command that prints a result', () => {
    // serve and probe run until stopped: they print logs and serve metrics, not a result.
    const running = new Set(['serve', 'probe']);
    const without: string[] = [];
    const walk = (command: Command, path: string[]): void => {
      if (command.commands.length === 0 && !running.has(path.join(' ')))
        if (!command.options.some((o) => o.long === '--json')) without.push(path.join(' '));
      for (const sub of command.commands) walk(sub, [...path, sub.name()]);
    };
    walk(buildProgram(), []);
    assert.deepEqual(without, []);
  });

  it('prints help', async () => {
    const { code, stdout } = await entitle('--help');
    assert.equal(code, 0);
    assert.match(stdout, /assess/);
    assert.match(stdout, /rules/);
  });

  it('assesses the worked example and prints JSON with the rule-set hash', async () => {
    const { code, stdout } = await entitle('assess', '--input', example);
    assert.equal(code, 0);
    const result = JSON.parse(stdout) as {
      outcome: { amount: number };
      ruleset: { hash: string };
      explanation: string[];
      trace?: unknown;
    };
    assert.equal(result.outcome.amount, 764.92);
    assert.match(result.ruleset.hash, /^sha256:/);
    assert.ok(result.explanation.length > 0);
    assert.equal(result.trace, undefined);
  });

  it('assesses one household for each benefit it names, unchanged', async () => {
    const { code, stdout } = await entitle('assess', '--input', join(root, 'examples/household.json'));
    assert.equal(code, 0);
    const { assessments } = JSON.parse(stdout) as {
      assessments: { benefit: string; outcome: { amount: number; provisionalParameters?: string[] } }[];
    };
    assert.deepEqual(
      assessments.map((a) => [a.benefit, a.outcome.amount, a.outcome.provisionalParameters ?? []]),
      [
        ['universal-credit', 1484.19, ['carerElementAmount']],
        ['child-benefit', 44.95, []],
      ],
    );
  });

  it('adds the full trace with --explain', async () => {
    const { code, stdout } = await entitle('assess', '--input', example, '--explain');
    assert.equal(code, 0);
    assert.ok((JSON.parse(stdout) as { trace: { variables: unknown[] } }).trace.variables.length > 10);
  });

  it('exits 2 with every field at fault, and no stack trace, for invalid input', async () => {
    const input = JSON.parse(await readFile(example, 'utf8')) as {
      household: { adults: Record<string, unknown>[]; capital: unknown };
    };
    input.household.adults[0]!.dateOfBirth = '1990-31-01';
    input.household.capital = -5;
    const file = await tempFile('bad.json', JSON.stringify(input));
    try {
      const { code, stderr, stdout } = await entitle('assess', '--input', file.path);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.match(stderr, /adults\[0\]\.dateOfBirth: enter a date such as 1990-01-31/);
      assert.match(stderr, /capital: must be £0\.00 or more/);
      assert.doesNotMatch(stderr, /\n\s+at /);
    } finally {
      await file.done();
    }
  });

  it('exits 2 and names the line and column of a JSON syntax error', async () => {
    const file = await tempFile('broken.json', '{\n  "benefit": "universal-credit",\n  "applicationId" "A"\n}');
    try {
      const { code, stderr } = await entitle('assess', '--input', file.path);
      assert.equal(code, 2);
      assert.match(stderr, /not valid JSON at line 3/);
    } finally {
      await file.done();
    }
  });

  it('exits 3 when the decision needs an unconfirmed rate', async () => {
    const input = JSON.parse(await readFile(example, 'utf8')) as { assessmentDate: string };
    input.assessmentDate = '2026-06-01';
    const file = await tempFile('unconfirmed.json', JSON.stringify(input));
    try {
      const { code, stderr } = await entitle('assess', '--input', file.path);
      assert.equal(code, 3);
      assert.match(stderr, /ENTITLE_PARAMETER_UNCONFIRMED: Work allowance/);
    } finally {
      await file.done();
    }
  });

  it('runs the golden tests, hashes and diffs rule sets', async () => {
    const test = await entitle('rules', 'test', '--quiet');
    assert.equal(test.code, 0, test.stdout);
    assert.match(test.stdout, /\d+ passed, 0 failed/);

    const ucDir = join(root, 'rulesets/uk-universal-credit');
    const hash = await entitle('rules', 'hash', ucDir);
    assert.match(hash.stdout.trim(), /^sha256:[0-9a-f]{64}$/);

    const copy = await mkdtemp(join(tmpdir(), 'entitle-diff-'));
    try {
      await cp(ucDir, copy, { recursive: true });
      await cp(join(root, 'rulesets/household.yaml'), join(copy, 'household.yaml'));
      const params = join(copy, 'parameters.yaml');
      await writeFile(
        params,
        (await readFile(params, 'utf8')).replace(
          'value: 424.90, source: \'S3 "Universal Credit"\'',
          "value: 425.00, source: 'S3 corrected'",
        ),
      );
      const diff = await entitle('rules', 'diff', ucDir, copy);
      assert.equal(diff.code, 0);
      assert.match(diff.stdout, /parameter standardAllowanceSingle25OrOver \(changed\)/);
      assert.match(diff.stdout, /from 2026-04-06: 424\.9 \(S3 "Universal Credit"\) -> 425 \(S3 corrected\)/);
    } finally {
      await rm(copy, { recursive: true });
    }
  });

  it('reports golden tests as JSON and as JUnit XML, failures included', async () => {
    const ucDir = join(root, 'rulesets/uk-universal-credit');
    const copy = await mkdtemp(join(tmpdir(), 'entitle-junit-'));
    try {
      await cp(ucDir, join(copy, 'uc'), { recursive: true });
      await cp(join(root, 'rulesets/household.yaml'), join(copy, 'household.yaml'));
      const params = join(copy, 'uc', 'parameters.yaml');
      // A penny more on a rate the golden tests use: some cases must now fail.
      await writeFile(params, (await readFile(params, 'utf8')).replace('value: 424.90,', 'value: 424.91,'));
      const junitFile = join(copy, 'results.xml');
      const run = await entitle('rules', 'test', join(copy, 'uc'), '--json', '--junit', junitFile);
      assert.equal(run.code, 1, run.stderr);
      const report = JSON.parse(run.stdout) as {
        passed: number;
        failed: number;
        ruleSets: { id: string; cases: { name: string; passed: boolean; failures: string[] }[] }[];
      };
      assert.ok(report.failed > 0 && report.passed > 0, `${report.passed} passed, ${report.failed} failed`);
      const failing = report.ruleSets[0]!.cases.find((c) => !c.passed)!;
      assert.match(failing.failures.join('\n'), /expected .*, got /);

      const xml = await readFile(junitFile, 'utf8');
      assert.match(xml, new RegExp(`<testsuites tests="${report.passed + report.failed}" failures="${report.failed}"`));
      assert.match(xml, /<testcase classname="uk-universal-credit" name="[^"]+" file="[^"]+tests\/[^"]+\.yaml"/);
      assert.match(xml, /<failure message="[^"]*expected[^"]*" type="golden"/);

      const check = await entitle('rules', 'check', join(copy, 'uc'), '--json');
      assert.equal(check.code, 0);
      assert.equal((JSON.parse(check.stdout) as { ok: boolean }).ok, true);
      const hash = await entitle('rules', 'hash', join(copy, 'uc'), '--json');
      assert.match((JSON.parse(hash.stdout) as { hash: string }).hash, /^sha256:/);
    } finally {
      await rm(copy, { recursive: true });
    }
  });

  it('exits 4 with located problems for an invalid rule set', async () => {
    const bad = join(root, 'src/rules/compiler/fixtures/bad-types');
    const { code, stderr } = await entitle('rules', 'check', bad);
    assert.equal(code, 4);
    assert.match(stderr, /ruleset\.yaml:13:43: \+ cannot combine money and true or false/);
  });

  it('has its help documented exactly as generated (run `npm run docs` after changing a command)', async () => {
    assert.equal(await readFile(join(root, 'docs/cli.md'), 'utf8'), renderCliDocs());
  });

  it('documents no path of the machine the docs were generated on', () => {
    assert.ok(!renderCliDocs().includes(root), 'CLI help shows an absolute path of this machine');
  });
});
