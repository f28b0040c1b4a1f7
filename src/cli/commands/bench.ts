import { Option, type Command } from 'commander';
import { EntitleError } from '../../errors/index.ts';
import { findRuleSetDirs, loadRuleSet, readGoldenCases, type ExplainLevel, type RuleSet } from '../../rules/index.ts';
import { EXIT } from '../exit.ts';
import { jsonOption, printJson } from '../output.ts';
import { BUNDLED_RULESETS, BUNDLED_RULESETS_HELP } from '../paths.ts';

/** Inputs to time: every golden-test input the rule set can assess. */
export async function benchInputs(dir: string, ruleSet: RuleSet): Promise<unknown[]> {
  const inputs: unknown[] = [];
  for (const golden of await readGoldenCases(dir, ruleSet)) {
    try {
      ruleSet.assess(golden.input, 'none');
      inputs.push(golden.input);
    } catch {
      // Cases that expect an error are not part of the throughput figure.
    }
  }
  return inputs;
}

/** Evaluations per second over `n` assessments cycling through `inputs`, after a warm-up. */
export function measureRate(ruleSet: RuleSet, inputs: readonly unknown[], n: number, level: ExplainLevel): number {
  let sink = 0;
  const warm = Math.min(n, 20_000);
  for (let i = 0; i < warm; i++) sink += ruleSet.assess(inputs[i % inputs.length], level).outcome.amount;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += ruleSet.assess(inputs[i % inputs.length], level).outcome.amount;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (Number.isNaN(sink)) throw new Error('unreachable: keeps the results alive');
  return n / seconds;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('Measure evaluations per second of a rule set on its golden-test inputs, on one core.')
    .requiredOption('--ruleset <id>', 'rule-set id, such as uk-universal-credit')
    .option('-n, --n <count>', 'evaluations to time per mode', '1000000')
    .addOption(new Option('--rules <dir>', 'directory of rule sets').default(BUNDLED_RULESETS, BUNDLED_RULESETS_HELP))
    .addOption(jsonOption('the rates'))
    .action(async (options: { ruleset: string; n: string; rules: string; json?: boolean }) => {
      const n = Number(options.n);
      if (!Number.isSafeInteger(n) || n < 1) {
        throw new EntitleError('ENTITLE_INPUT_INVALID', '--n must be a whole number', [
          { field: '--n', message: 'enter a whole number of evaluations, such as 1000000' },
        ]);
      }
      let found: { dir: string; ruleSet: RuleSet } | undefined;
      for (const dir of await findRuleSetDirs(options.rules)) {
        const ruleSet = await loadRuleSet(dir);
        if (ruleSet.id === options.ruleset) found = { dir, ruleSet };
      }
      if (!found) {
        throw new EntitleError('ENTITLE_RULESET_NOT_FOUND', `no rule set with id ${options.ruleset}`, [
          { field: '--ruleset', message: `enter the id of a rule set in ${options.rules}` },
        ]);
      }
      const inputs = await benchInputs(found.dir, found.ruleSet);
      if (!options.json) process.stdout.write(`${found.ruleSet.id} ${found.ruleSet.hash}: ${inputs.length} inputs\n`);
      const rates = [];
      for (const level of ['none', 'reasons', 'trace'] as const) {
        const count = level === 'none' ? n : Math.max(1, Math.floor(n / 5));
        const rate = Math.round(measureRate(found.ruleSet, inputs, count, level));
        rates.push({ explain: level, evaluationsPerSecond: rate, evaluations: count });
        if (!options.json)
          process.stdout.write(
            `${level.padEnd(8)} ${rate.toLocaleString('en-GB').padStart(12)} evaluations/s (${count} evaluations)\n`,
          );
      }
      if (options.json)
        printJson({ ruleset: found.ruleSet.id, hash: found.ruleSet.hash, inputs: inputs.length, rates });
      process.exitCode = EXIT.ok;
    });
}
