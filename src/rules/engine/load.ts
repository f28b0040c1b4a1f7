import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EntitleError } from '../../errors/index.ts';
import { compileBundle, compileParameters, type CompileResult, type EngineOverrides } from '../compiler/index.ts';
import { checkBundle, readRuleSetDir, RULESET_FILE, type HouseholdLookup } from '../format/index.ts';
import { RuleSet } from './rule-set.ts';

/** Reads and compiles a rule-set directory; every problem comes back located, nothing throws for bad rules. */
export async function compileRuleSetDir(dir: string, lookup: HouseholdLookup = {}): Promise<CompileResult> {
  const { bundle, parameters, referenceKeys, locators, problems } = await readRuleSetDir(dir, process.cwd(), lookup);
  if (bundle) {
    const result = compileBundle(bundle, locators);
    if (problems.length === 0) return result;
    return { ok: false, problems: [...problems, ...(result.ok ? [] : result.problems)] };
  }
  // The formulas cannot be checked without a well-formed ruleset.yaml, but the parameters can:
  // report their problems too, so one run lists as much as can be known.
  if (parameters) compileParameters(parameters, referenceKeys, locators.parameters, problems);
  return { ok: false, problems };
}

/** Loads a rule set, throwing ENTITLE_RULESET_INVALID with every problem if it does not compile. */
export async function loadRuleSet(dir: string, lookup: HouseholdLookup = {}): Promise<RuleSet> {
  const result = await compileRuleSetDir(dir, lookup);
  if (!result.ok) {
    throw new EntitleError(
      'ENTITLE_RULESET_INVALID',
      `the rule set in ${dir} has ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}`,
      result.problems,
    );
  }
  return new RuleSet(result.program);
}

/** Rebuilds a rule set from a stored bundle (for replaying a decision years later). */
export function ruleSetFromBundle(data: unknown, label = 'stored bundle', engine?: EngineOverrides): RuleSet {
  const { bundle, problems } = checkBundle(data, label);
  const result = bundle ? compileBundle(bundle, undefined, engine) : { ok: false as const, problems };
  if (!result.ok) throw new EntitleError('ENTITLE_RULESET_INVALID', `${label} does not compile`, result.problems);
  return new RuleSet(result.program);
}

/** Every rule-set directory (one holding ruleset.yaml) directly under `root`. */
export async function findRuleSetDirs(root: string): Promise<string[]> {
  const found: string[] = [];
  const holdsRules = async (dir: string) =>
    stat(join(dir, RULESET_FILE)).then(
      () => true,
      () => false,
    );
  if (await holdsRules(root)) return [root];
  for (const entry of (await readdir(root, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isDirectory() && (await holdsRules(join(root, entry.name)))) found.push(join(root, entry.name));
  }
  return found;
}

/** Loads every rule set under `root`, keyed by benefit. */
export async function loadRuleSets(root: string): Promise<Map<string, RuleSet>> {
  const sets = new Map<string, RuleSet>();
  for (const dir of await findRuleSetDirs(root)) {
    const ruleSet = await loadRuleSet(dir);
    sets.set(ruleSet.benefit, ruleSet);
  }
  return sets;
}
