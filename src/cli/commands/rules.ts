import { Argument, type Command } from 'commander';
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
import { BUNDLED_RULESETS, BUNDLED_RULESETS_HELP } from '../paths.ts';

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
    .action(async (dir: string) => {
      const dirs = await ruleSetDirs(dir);
      let problems = 0;
      for (const each of dirs) {
        const result = await compileRuleSetDir(each);
        if (result.ok) {
          process.stdout.write(`ok ${result.program.id} ${result.program.hash}\n`);
        } else {
          problems += result.problems.length;
          for (const problem of result.problems) process.stderr.write(`${formatProblem(problem)}\n`);
        }
      }
      process.exitCode = problems > 0 ? EXIT.invalidRules : EXIT.ok;
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
    .action(async (dir: string, options: { quiet?: boolean }) => {
      let passed = 0;
      let failed = 0;
      for (const each of await ruleSetDirs(dir)) {
        const ruleSet = await loadRuleSet(each);
        const cases = await readGoldenCases(each, ruleSet);
        process.stdout.write(`${ruleSet.id} ${ruleSet.hash} (${cases.length} cases)\n`);
        for (const golden of cases) {
          const result = runGoldenCase(ruleSet, golden);
          if (result.passed) {
            passed += 1;
            if (!options.quiet) process.stdout.write(`  ok    ${golden.name}\n`);
          } else {
            failed += 1;
            process.stdout.write(
              `  FAIL  ${golden.name} (${golden.file}:${golden.line})\n${result.failures.map((f) => `        ${f}`).join('\n')}\n`,
            );
          }
        }
      }
      process.stdout.write(`${passed} passed, ${failed} failed\n`);
      process.exitCode = failed > 0 ? EXIT.failed : EXIT.ok;
    });

  rules
    .command('hash')
    .description('Print the content hash (canonical SHA-256) that identifies a rule set in every decision.')
    .argument('<dir>', 'a rule-set directory')
    .action(async (dir: string) => {
      const ruleSet = await loadRuleSet(dir);
      process.stdout.write(`${ruleSet.hash}\n`);
    });

  rules
    .command('diff')
    .description(
      'Show which parameters (with effective dates), formulas, inputs and outputs differ between two rule sets.',
    )
    .argument('<dirA>', 'the rule set before')
    .argument('<dirB>', 'the rule set after')
    .option('--json', 'print the changes as JSON')
    .action(async (dirA: string, dirB: string, options: { json?: boolean }) => {
      const [a, b] = await Promise.all([loadRuleSet(dirA), loadRuleSet(dirB)]);
      const diff = diffBundles(a.program.bundle, b.program.bundle, { from: a.hash, to: b.hash });
      process.stdout.write(`${options.json ? JSON.stringify(diff, null, 2) : formatDiff(diff)}\n`);
    });
}
