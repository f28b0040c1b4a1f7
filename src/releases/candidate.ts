import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { NO_CHANGES, parseExpectations, readExpectations } from '../comparison/index.ts';
import { EntitleError } from '../errors/index.ts';
import { householdFileOf, loadRuleSet, readGoldenCases, runGoldenCase, type RuleProgram } from '../rules/index.ts';
import type { NewRelease } from './repository.ts';

/**
 * A candidate rule-set directory made ready to record as a release: compiled, checked to decide
 * the benefit named, its declaration read against it, and its golden tests run. The directory is
 * the one withRuleSetFiles writes the files sent over HTTP to (the command line sends them too).
 */
export async function candidateFromDir(
  dir: string,
  benefit: string,
  expect: { file: string } | { name: string; text: string } | undefined,
  field = '--rules',
  displayRoot = process.cwd(),
): Promise<Pick<NewRelease, 'program' | 'expectations' | 'golden'>> {
  const shown = (file: string) => relative(displayRoot, resolve(process.cwd(), file)) || file;
  // Only the files sent are read: never a household model beside the temporary directory.
  const ruleSet = await loadRuleSet(dir, { beside: false });
  if (ruleSet.benefit !== benefit) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `the rule set decides ${ruleSet.benefit}, not ${benefit}`, [
      { field: 'benefit', message: `give the benefit ${ruleSet.benefit}, or the right rule set (${field})` },
    ]);
  }
  const expectations =
    expect === undefined
      ? NO_CHANGES
      : 'file' in expect
        ? await readExpectations(expect.file, ruleSet.program)
        : parseExpectations(expect.name, expect.text, ruleSet.program);
  const cases = await readGoldenCases(dir, ruleSet);
  const failed = cases
    .filter((c) => !runGoldenCase(ruleSet, c).passed)
    .map((c) => `${c.name} (${shown(c.file)}:${c.line})`);
  return { program: ruleSet.program, expectations, golden: { total: cases.length, failed } };
}

/**
 * The files a rule-set directory may hold when sent over HTTP: its two YAML files, the household
 * model it reads, and golden tests.
 */
const ALLOWED = /^(ruleset\.yaml|parameters\.yaml|household\.yaml|tests\/[A-Za-z0-9][A-Za-z0-9_-]*\.yaml)$/;

/**
 * A rule-set directory as the files sent over HTTP: ruleset.yaml, parameters.yaml, the household
 * model (its own household.yaml, or the one beside it, shared by every rule set) and each
 * tests/NAME.yaml, as text. Anything else in the directory is not part of the rule set and stays.
 */
export async function ruleSetFiles(dir: string, field = '--rules'): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const read = async (name: string) => {
    files[name] = await readFile(join(dir, name), 'utf8');
  };
  try {
    await read('ruleset.yaml');
    await read('parameters.yaml');
  } catch (error) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${dir} is not a rule-set directory`, [
      {
        field,
        message: `give a directory holding ruleset.yaml and parameters.yaml (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      },
    ]);
  }
  // Sent whenever there is one; a rule set with its own inputs ignores it.
  const household = await readFile(await householdFileOf(dir), 'utf8').catch(() => undefined);
  if (household !== undefined) files['household.yaml'] = household;
  const tests = await readdir(join(dir, 'tests')).catch(() => [] as string[]);
  for (const name of tests.sort()) if (ALLOWED.test(`tests/${name}`)) await read(`tests/${name}`);
  return files;
}

/** What showing a rule set's values needs: its period, and the type of each variable (money, rate, date...). */
export interface RuleSetUnits {
  readonly period: RuleProgram['period'];
  readonly types: Readonly<Record<string, string>>;
}

export function unitsOf(program: RuleProgram): RuleSetUnits {
  return { period: program.period, types: Object.fromEntries(program.variables.map((v) => [v.name, v.type.t])) };
}

/**
 * Writes rule-set files sent over HTTP to a private temporary directory, runs `work` on it, and
 * removes it. File names are checked first, so a name can never reach outside the directory.
 */
export async function withRuleSetFiles<T>(
  files: Readonly<Record<string, string>>,
  work: (dir: string) => Promise<T>,
): Promise<T> {
  // Written by hand: no library writes a map of names to texts into a checked, private directory.
  const bad = Object.keys(files).filter((name) => !ALLOWED.test(name));
  if (bad.length > 0 || !('ruleset.yaml' in files) || !('parameters.yaml' in files)) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the rule-set files are not a rule-set directory', [
      ...bad.map((name) => ({
        field: `files.${name}`,
        message: 'send only ruleset.yaml, parameters.yaml, household.yaml and tests/NAME.yaml',
      })),
      ...(['ruleset.yaml', 'parameters.yaml'] as const)
        .filter((name) => !(name in files))
        .map((name) => ({ field: `files.${name}`, message: 'is required' })),
    ]);
  }
  const root = await mkdtemp(join(tmpdir(), 'entitle-candidate-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, name)), { recursive: true });
      await writeFile(join(root, name), text);
    }
    return await work(root);
  } catch (error) {
    // Problems in the files sent are the sender's to fix: a 400 naming each file sent, its line and
    // column, and never this server's temporary directory.
    if (
      error instanceof EntitleError &&
      (error.code === 'ENTITLE_RULESET_INVALID' || error.code === 'ENTITLE_GOLDEN_TEST_INVALID')
    ) {
      throw new EntitleError(
        'ENTITLE_CANDIDATE_INVALID',
        `the rule-set files sent have ${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}`,
        error.problems.map((p) => ({
          field: p.file
            ? `files.${relative(root, resolve(process.cwd(), p.file))}${p.line ? `:${p.line}:${p.column ?? 1}` : ''}`
            : 'files',
          message: p.message,
        })),
      );
    }
    throw error;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
