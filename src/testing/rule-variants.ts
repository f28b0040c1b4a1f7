// Rule-set variants for tests and the release demonstration, derived from the bundled Universal
// Credit rule set so no policy file is copied.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { SINGLE_ADULT_NO_INCOME } from '../monitoring/index.ts';
import { readRuleSetDir, ruleSetFromBundle, type RuleSet, type RuleSetBundle } from '../rules/index.ts';

export const UC_DIR = fileURLToPath(new URL('../../rulesets/uk-universal-credit', import.meta.url));

type Parameters = Record<
  string,
  { values: { from: string; value?: unknown; unconfirmed?: boolean; source: string; note?: string }[] }
>;

export async function ucBundle(): Promise<RuleSetBundle> {
  const { bundle } = await readRuleSetDir(UC_DIR);
  if (!bundle) throw new Error('the bundled Universal Credit rule set does not read');
  return structuredClone(bundle);
}

function edit(bundle: RuleSetBundle, change: (parameters: Parameters) => void, title: string): RuleSetBundle {
  const copy = structuredClone(bundle) as unknown as { ruleset: { title: string }; parameters: Parameters };
  change(copy.parameters);
  copy.ruleset.title = title;
  return copy as unknown as RuleSetBundle;
}

/** The rule set as it stood before the April 2026 uprating: 2025/26 rates only. */
export function beforeUprating(bundle: RuleSetBundle): RuleSetBundle {
  return edit(
    bundle,
    (parameters) => {
      for (const parameter of Object.values(parameters))
        parameter.values = parameter.values.filter((v) => String(v.from) < '2026-04-06');
    },
    'Universal Credit (2025/26 rates)',
  );
}

/**
 * The April 2026 uprating, releasable: the bundled rule set leaves some 2026/27 rates unconfirmed
 * (docs/releasing-rules.md), and a release must not fail where the active version decides. For
 * tests only, each unconfirmed rate carries forward its 2025/26 value, so the changes are exactly
 * the declared ones: standard allowance, child element, LCWRA and the two-child limit.
 */
export function uprating(bundle: RuleSetBundle): RuleSetBundle {
  return edit(
    bundle,
    (parameters) => {
      for (const parameter of Object.values(parameters)) {
        parameter.values.forEach((entry, i) => {
          if (!entry.unconfirmed) return;
          delete entry.unconfirmed;
          delete entry.note;
          entry.value = parameter.values[i - 1]!.value;
          entry.source = `${parameter.values[i - 1]!.source}; test assumption: the 2025/26 value carried forward`;
        });
      }
    },
    'Universal Credit (2026/27 uprating)',
  );
}

/** A change nobody declared: the earnings taper from 55% to 56% from a date. */
export function taper(bundle: RuleSetBundle, rate: string, from = '2025-04-07'): RuleSetBundle {
  return edit(
    bundle,
    (parameters) => {
      const entries = parameters.earningsTaper!.values.filter((v) => String(v.from) < from);
      parameters.earningsTaper!.values = [...entries, { from, value: rate, source: 'S5 reg. 22(1)(b)' }];
    },
    `Universal Credit (taper ${rate})`,
  );
}

export function compile(bundle: RuleSetBundle): RuleSet {
  return ruleSetFromBundle(bundle, 'test variant');
}

/** Writes a variant as a rule-set directory, with golden test files if given. */
export async function writeRuleSetDir(
  dir: string,
  bundle: RuleSetBundle,
  tests: Record<string, unknown> = {},
): Promise<string> {
  await mkdir(join(dir, 'tests'), { recursive: true });
  await writeFile(join(dir, 'ruleset.yaml'), stringify(bundle.ruleset));
  await writeFile(join(dir, 'parameters.yaml'), stringify(bundle.parameters));
  // The household model goes in the directory itself, where it is found before the shared one.
  if (bundle.household) await writeFile(join(dir, 'household.yaml'), stringify(bundle.household));
  for (const [name, content] of Object.entries(tests)) await writeFile(join(dir, 'tests', name), stringify(content));
  return dir;
}

/** A working household: earnings vary, so a change to the taper shows for most of them. */
export function household(n: number, assessmentDate = '2025-06-01') {
  return {
    benefit: 'universal-credit',
    applicationId: `LIVE-${String(n).padStart(5, '0')}`,
    assessmentDate,
    household: {
      adults: [
        {
          dateOfBirth: '1990-01-01',
          monthlyNetEarnings: (n * 37) % 2400,
          limitedCapabilityForWorkRelatedActivity: false,
          lcwraProtected: false,
          carer: false,
        },
      ],
      children: n % 3 === 0 ? [] : [{ dateOfBirth: '2018-05-05', disability: 'none' }],
      monthlyEligibleHousingCosts: (n * 13) % 700,
      nonDependants: 0,
      monthlyChildcareCosts: 0,
      capital: 0,
      monthlyUnearnedIncome: 0,
      livesInGreaterLondon: false,
    },
  };
}

// One golden case the variants all pass: a single adult of 30 with no earnings or children.
export const GOLDEN_SINGLE = {
  defaults: { benefit: 'universal-credit', assessmentDate: '2025-06-01' },
  cases: [
    {
      name: 'single adult, no income',
      household: SINGLE_ADULT_NO_INCOME,
      expect: { entitled: true, amount: 400.14 },
    },
  ],
};

/** Polls `check` until it returns a value, failing with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The declaration of the April 2026 uprating's expected changes, as a policy team writes it. */
export const UPRATING_DECLARATION = `changes:
  - variable: standardAllowance
    direction: rise
    maxPercent: 7
    why: 2026/27 uprating
  - variable: childElement
    direction: rise
    why: 2026/27 uprating, and payable for third and later children
  - variable: childElementPayable
    why: the two-child limit is removed from 6 April 2026
  - variable: lcwraElement
    why: 2026/27 rates; new claimants get the lower rate
`;
