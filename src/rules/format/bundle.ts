import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import canonicalizeModule from 'canonicalize';
import { EntitleError, type Problem } from '../../errors/index.ts';
import {
  checkShape,
  householdFileSchema,
  parametersFileSchema,
  ruleSetFileSchema,
  type HouseholdFile,
  type ParametersFile,
  type RuleSetFile,
} from './schema.ts';
import { parseYamlSource, type Locator, type Path } from './yaml-source.ts';

// The package is CommonJS but declares an ES default export; under NodeNext the default import
// is the function itself at run time, which the declaration does not say.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/** Version of the bundle format; part of the hash, so a change of format is a change of rules. */
export const BUNDLE_FORMAT = 'entitle-ruleset/1';

/**
 * A rule set as data: what is hashed, stored beside decisions and compiled. Comments and layout
 * of the YAML are not part of it, so reformatting a file does not change the hash.
 */
export interface RuleSetBundle {
  readonly format: typeof BUNDLE_FORMAT;
  readonly ruleset: RuleSetFile;
  readonly parameters: ParametersFile;
  /**
   * The shared household model, for a rule set that `reads` from it; absent for one with its own
   * `inputs`, so bundles made before the model keep their hashes.
   */
  readonly household?: HouseholdFile;
}

export interface BundleLocators {
  readonly ruleset: Locator;
  readonly parameters: Locator;
  readonly household: Locator;
}

export const RULESET_FILE = 'ruleset.yaml';
export const PARAMETERS_FILE = 'parameters.yaml';
export const HOUSEHOLD_FILE = 'household.yaml';

/** Where a rule-set directory's household model may be found. */
export interface HouseholdLookup {
  /**
   * Whether the shared model beside the directory (rulesets/household.yaml) is looked for when
   * the directory has none of its own. False for rule-set files sent over HTTP, written to a
   * temporary directory: only what was sent may be read.
   */
  readonly beside?: boolean;
}

/**
 * Where a rule-set directory's household model is: its own household.yaml if it has one (a
 * candidate sent over HTTP), else the one beside it (rulesets/household.yaml, shared by all).
 */
export async function householdFileOf(dir: string, { beside = true }: HouseholdLookup = {}): Promise<string> {
  const own = join(dir, HOUSEHOLD_FILE);
  if (!beside) return own;
  return (await access(own).then(
    () => true,
    () => false,
  ))
    ? own
    : join(dirname(resolve(dir)), HOUSEHOLD_FILE);
}

/**
 * The canonical SHA-256 of a bundle: RFC 8785 (JSON Canonicalization Scheme) serialisation, so
 * the same rules give the same hash on every machine, whatever the key order or YAML layout.
 */
export function hashBundle(bundle: RuleSetBundle): string {
  const canonical = canonicalize(bundle);
  if (canonical === undefined) throw new Error('a rule-set bundle always serialises');
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

/** Reads a rule-set directory. Every shape problem in both files is returned, located. */
export interface RuleSetSource {
  /**
   * Present when both files are readable and of the right shape, even if `problems` has others
   * (a duplicate key), so compiling can report its problems too. Never use it if there are problems.
   */
  readonly bundle?: RuleSetBundle;
  /** The parameters alone, when their file is of the right shape, to check them on their own. */
  readonly parameters?: ParametersFile;
  /** The reference keys of ruleset.yaml, as far as it could be read. */
  readonly referenceKeys: ReadonlySet<string>;
  readonly locators: BundleLocators;
  readonly problems: Problem[];
}

export async function readRuleSetDir(
  dir: string,
  displayRoot = process.cwd(),
  lookup: HouseholdLookup = {},
): Promise<RuleSetSource> {
  const problems: Problem[] = [];
  const read = async (name: string) => {
    const path = join(dir, name);
    const display = relative(displayRoot, path) || path;
    try {
      return { display, text: await readFile(path, 'utf8') };
    } catch {
      throw new EntitleError('ENTITLE_RULESET_NOT_FOUND', `${display} could not be read`, [
        { file: display, message: 'the file is missing or cannot be read' },
      ]);
    }
  };
  const [rulesFile, paramsFile] = await Promise.all([read(RULESET_FILE), read(PARAMETERS_FILE)]);
  const rules = parseYamlSource(rulesFile.display, rulesFile.text);
  const params = parseYamlSource(paramsFile.display, paramsFile.text);
  problems.push(...rules.problems, ...params.problems);
  const rawRules = rules.data as { references?: unknown; reads?: unknown } | undefined;
  const rawReferences = rawRules?.references;
  const referenceKeys = new Set(rawReferences && typeof rawReferences === 'object' ? Object.keys(rawReferences) : []);

  // The household model is read only by a rule set that reads from it.
  let household: { value?: HouseholdFile; issues?: readonly { path: Path; message: string }[] } | undefined;
  let householdLocator = pathLocators(rulesFile.display).household;
  if (rawRules?.reads !== undefined) {
    const path = await householdFileOf(dir, lookup);
    const display = relative(displayRoot, path) || path;
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text === undefined) {
      problems.push(
        rules.locator.at(
          ['reads'],
          lookup.beside === false
            ? `a rule set that reads from the household model needs ${HOUSEHOLD_FILE}: send it with the rule set`
            : `a rule set that reads from the household model needs ${HOUSEHOLD_FILE} in or beside its directory (${display} could not be read)`,
        ),
      );
      household = {};
    } else {
      const source = parseYamlSource(display, text);
      problems.push(...source.problems);
      householdLocator = source.locator;
      household = source.data === undefined ? {} : checkShape(householdFileSchema, source.data);
      for (const issue of household.issues ?? []) problems.push(source.locator.at(issue.path, issue.message));
    }
  }
  const locators = { ruleset: rules.locator, parameters: params.locator, household: householdLocator };

  const ruleset = rules.data === undefined ? undefined : checkShape(ruleSetFileSchema, rules.data);
  const parameters = params.data === undefined ? undefined : checkShape(parametersFileSchema, params.data);
  for (const issue of ruleset?.issues ?? []) problems.push(rules.locator.at(issue.path, issue.message));
  for (const issue of parameters?.issues ?? []) problems.push(params.locator.at(issue.path, issue.message));
  const partial = { referenceKeys, locators, problems, ...(parameters?.value ? { parameters: parameters.value } : {}) };
  if (!ruleset?.value || !parameters?.value || (household !== undefined && !household.value)) return partial;
  return {
    ...partial,
    bundle: {
      format: BUNDLE_FORMAT,
      ruleset: ruleset.value,
      parameters: parameters.value,
      ...(household?.value ? { household: household.value } : {}),
    },
  };
}

/** Locators for a bundle that has no source text (one read back from storage): paths, not lines. */
export function pathLocators(label: string): BundleLocators {
  const make = (file: string): Locator => {
    const at = (path: Path, message: string): Problem => ({ file: `${file}#/${path.join('/')}`, message });
    return { at, inside: (path, offset, message) => at(path, `${message} (at character ${offset + 1})`) };
  };
  return {
    ruleset: make(`${label}:${RULESET_FILE}`),
    parameters: make(`${label}:${PARAMETERS_FILE}`),
    household: make(`${label}:${HOUSEHOLD_FILE}`),
  };
}

/** Checks the shape of a bundle read back from storage. */
export function checkBundle(data: unknown, label: string): { bundle?: RuleSetBundle; problems: Problem[] } {
  const locators = pathLocators(label);
  const record = (data ?? {}) as Record<string, unknown>;
  const problems: Problem[] = [];
  if (record.format !== BUNDLE_FORMAT)
    problems.push({ file: label, message: `the bundle format must be ${BUNDLE_FORMAT}` });
  const ruleset = checkShape(ruleSetFileSchema, record.ruleset);
  const parameters = checkShape(parametersFileSchema, record.parameters);
  const household = record.household === undefined ? undefined : checkShape(householdFileSchema, record.household);
  for (const issue of ruleset.issues) problems.push(locators.ruleset.at(issue.path, issue.message));
  for (const issue of parameters.issues) problems.push(locators.parameters.at(issue.path, issue.message));
  for (const issue of household?.issues ?? []) problems.push(locators.household.at(issue.path, issue.message));
  if (problems.length > 0 || !ruleset.value || !parameters.value) return { problems };
  return {
    bundle: {
      format: BUNDLE_FORMAT,
      ruleset: ruleset.value,
      parameters: parameters.value,
      ...(household?.value ? { household: household.value } : {}),
    },
    problems,
  };
}
