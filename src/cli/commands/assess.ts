import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { EntitleError } from '../../errors/index.ts';
import { benefitsOf } from '../../http/index.ts';
import { loadRuleSets } from '../../rules/index.ts';
import { EXIT } from '../exit.ts';
import { jsonOption, printJson } from '../output.ts';
import { BUNDLED_RULESETS, BUNDLED_RULESETS_HELP } from '../paths.ts';

/** Reads a JSON file (or standard input for "-"); a syntax error names the line and column. */
export async function readJsonInput(path: string): Promise<unknown> {
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${path} could not be read`, [
      { field: '--input', message: `check that ${path} exists and can be read` },
    ]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message);
    const at = position ? Number(position[1]) : 0;
    const before = text.slice(0, at).split('\n');
    const where = position ? ` at line ${before.length}, column ${before[before.length - 1]!.length + 1}` : '';
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${path} is not valid JSON`, [
      { field: '--input', message: `the file is not valid JSON${where}: check for a missing comma, quote or bracket` },
    ]);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function registerAssess(program: Command): void {
  program
    .command('assess')
    .description(
      'Assess one application and print the outcome as JSON; with "benefits": [...] in place of "benefit", the same household for each.',
    )
    .requiredOption('-i, --input <file>', 'the assessment input, as JSON ("-" for standard input)')
    .option('--explain', 'include the full trace: every variable, formula and parameter read, with its source')
    .addOption(
      new Option('--rules <dir>', 'directory of rule sets to use').default(BUNDLED_RULESETS, BUNDLED_RULESETS_HELP),
    )
    .addOption(jsonOption('the assessment (it always is: for scripts that pass --json to every command)'))
    .action(async (options: { input: string; explain?: boolean; rules: string; json?: boolean }) => {
      const input = await readJsonInput(options.input);
      const ruleSets = await loadRuleSets(options.rules);
      const ruleSetFor = (benefit: unknown, field: string) => {
        const ruleSet = typeof benefit === 'string' ? ruleSets.get(benefit) : undefined;
        if (!ruleSet) {
          throw new EntitleError('ENTITLE_BENEFIT_UNKNOWN', 'no rule set is loaded for this benefit', [
            { field, message: `enter one of: ${[...ruleSets.keys()].join(', ')}` },
          ]);
        }
        return ruleSet;
      };
      const level = options.explain ? 'trace' : 'reasons';
      const several = input !== null && typeof input === 'object' && !Array.isArray(input) && 'benefits' in input;
      if (several) {
        // One household for several benefits, as POST /v1/assessments takes it (and checks it): one outcome each.
        const benefits = benefitsOf(input);
        const rest = Object.fromEntries(Object.entries(input).filter(([key]) => key !== 'benefits'));
        const assessments = benefits.map((benefit, i) =>
          ruleSetFor(benefit, `benefits[${i}]`).assess({ ...rest, benefit }, level),
        );
        printJson({ assessments });
      } else {
        printJson(ruleSetFor((input as { benefit?: unknown } | null)?.benefit, 'benefit').assess(input, level));
      }
      process.exitCode = EXIT.ok;
    });
}
