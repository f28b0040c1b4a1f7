import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Argument, type Command } from 'commander';
import type { Builder } from 'junit-report-builder';
import { EntitleError, formatProblem } from '../../errors/index.ts';
import {
  compileRuleSetDir,
  diffBundles,
  findRuleSetDirs,
  formatDiff,
  loadRuleSet,
  readGoldenCases,
  runGoldenCase,
} from '../../rules/index.ts';
import { EXIT } from '../exit.ts';
import { jsonOption, printJson } from '../output.ts';
import { BUNDLED_RULESETS, BUNDLED_RULESETS_HELP } from '../paths.ts';

// The package sets module.exports to its builder, while its types declare an ES default export:
// required, it is what the types say.
const junit = createRequire(import.meta.url)('junit-report-builder') as Builder;

async function ruleSetDirs(dir: string): Promise<string[]> {
  const dirs = await findRuleSetDirs(dir).catch(() => []);
  if (dirs.length === 0) {
    throw new EntitleError('ENTITLE_RULESET_NOT_FOUND', `no rule set found in ${dir}`, [
      { file: dir, message: 'give a directory holding ruleset.yaml, or a directory of such directories' },
    ]);
  }
  return dirs;
}

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('Check, test, hash and compare rule sets.');

  rules
    .command('check')
    .description('Compile rule sets and list every problem with its file, line and column.')
    .addArgument(
      new Argument('[dir]', 'a rule-set directory, or a directory of them').default(
        BUNDLED_RULESETS,
        BUNDLED_RULESETS_HELP,
      ),
    )
    .addOption(jsonOption('each rule set and its problems'))
    .action(async (dir: string, options: { json?: boolean }) => {
      const checked = [];
      // A problem in the household model, which every rule set reads, is shown once.
      const shown = new Set<string>();
      for (const each of await ruleSetDirs(dir)) {
        const result = await compileRuleSetDir(each);
        checked.push(
          result.ok
            ? { dir: each, ok: true, id: result.program.id, hash: result.program.hash, problems: [] }
            : { dir: each, ok: false, problems: result.problems },
        );
        if (options.json) continue;
        if (result.ok) process.stdout.write(`ok ${result.program.id} ${result.program.hash}\n`);
        else
          for (const problem of result.problems) {
            const line = formatProblem(problem);
            if (!shown.has(line)) process.stderr.write(`${line}\n`);
            shown.add(line);
          }
      }
      const ok = checked.every((c) => c.ok);
      if (options.json) printJson({ ok, ruleSets: checked });
      process.exitCode = ok ? EXIT.ok : EXIT.invalidRules;
    });

  rules
    .command('test')
    .description('Run the golden tests of rule sets (their tests/*.yaml); amounts must match to the penny.')
    .addArgument(
      new Argument('[dir]', 'a rule-set directory, or a directory of them').default(
        BUNDLED_RULESETS,
        BUNDLED_RULESETS_HELP,
      ),
    )
    .option('-q, --quiet', 'print only failures and the summary')
    .addOption(jsonOption('every case and its result'))
    .option('--junit <file>', 'also write the results as JUnit XML, which CI systems show as test results')
    .action(async (dir: string, options: { quiet?: boolean; json?: boolean; junit?: string }) => {
      const ruleSets = [];
      const report = junit.newBuilder();
      for (const each of await ruleSetDirs(dir)) {
        const ruleSet = await loadRuleSet(each);
        const cases = await readGoldenCases(each, ruleSet);
        const suite = report.testSuite().name(`${ruleSet.id} ${ruleSet.hash}`);
        if (!options.json) process.stdout.write(`${ruleSet.id} ${ruleSet.hash} (${cases.length} cases)\n`);
        const results = [];
        for (const golden of cases) {
          const started = performance.now();
          const result = runGoldenCase(ruleSet, golden);
          const testCase = suite
            .testCase()
            .className(ruleSet.id)
            .name(golden.name)
            .file(golden.file)
            .time((performance.now() - started) / 1000);
          if (!result.passed) testCase.failure(result.failures.join('\n'), 'golden');
          results.push({
            name: golden.name,
            file: golden.file,
            line: golden.line,
            passed: result.passed,
            failures: result.failures,
          });
          if (options.json) continue;
          if (result.passed) {
            if (!options.quiet) process.stdout.write(`  ok    ${golden.name}\n`);
          } else {
            process.stdout.write(
              `  FAIL  ${golden.name} (${golden.file}:${golden.line})\n${result.failures.map((f) => `        ${f}`).join('\n')}\n`,
            );
          }
        }
        ruleSets.push({ id: ruleSet.id, hash: ruleSet.hash, cases: results });
      }
      const all = ruleSets.flatMap((r) => r.cases);
      const passed = all.filter((c) => c.passed).length;
      const failed = all.length - passed;
      if (options.junit) {
        await writeFile(options.junit, report.build()).catch(() => {
          throw new EntitleError('ENTITLE_INPUT_INVALID', `${options.junit} could not be written`, [
            { field: '--junit', message: 'give a file in a folder that exists and can be written' },
          ]);
        });
      }
      if (options.json) printJson({ passed, failed, ruleSets });
      else
        process.stdout.write(
          `${passed} passed, ${failed} failed${options.junit ? `; JUnit XML in ${options.junit}` : ''}\n`,
        );
      process.exitCode = failed > 0 ? EXIT.failed : EXIT.ok;
    });

  rules
    .command('hash')
    .description('Print the content hash (canonical SHA-256) that identifies a rule set in every decision.')
    .argument('<dir>', 'a rule-set directory')
    .addOption(jsonOption('the rule set and its hash'))
    .action(async (dir: string, options: { json?: boolean }) => {
      const ruleSet = await loadRuleSet(dir);
      if (options.json) printJson({ id: ruleSet.id, hash: ruleSet.hash });
      else process.stdout.write(`${ruleSet.hash}\n`);
    });

  rules
    .command('diff')
    .description(
      'Show which parameters (with effective dates), formulas, inputs and outputs differ between two rule sets.',
    )
    .argument('<dirA>', 'the rule set before')
    .argument('<dirB>', 'the rule set after')
    .addOption(jsonOption('the changes'))
    .action(async (dirA: string, dirB: string, options: { json?: boolean }) => {
      const [a, b] = await Promise.all([loadRuleSet(dirA), loadRuleSet(dirB)]);
      const diff = diffBundles(a.program.bundle, b.program.bundle, { from: a.hash, to: b.hash });
      process.stdout.write(`${options.json ? JSON.stringify(diff, null, 2) : formatDiff(diff)}\n`);
    });
}
