import { fileURLToPath } from 'node:url';
import { createRelease, startShadow } from '../src/releases/index.ts';
import { loadRuleSet, ruleSetFromBundle } from '../src/rules/index.ts';
import type { Database } from '../src/store/index.ts';

/**
 * A release in shadow at 100% whose candidate decides exactly as the active version does (it
 * differs only in its title), so every assessment also pays for shadow evaluation and every
 * comparison is identical: the release stays in shadow however long the benchmark runs.
 */
export async function shadowRelease(db: Database): Promise<string> {
  const bundle = structuredClone(
    (await loadRuleSet(fileURLToPath(new URL('../rulesets/uk-universal-credit', import.meta.url)))).program.bundle,
  ) as unknown as { ruleset: { title: string } };
  bundle.ruleset.title = `${bundle.ruleset.title} (retitled for the benchmark)`;
  const candidate = ruleSetFromBundle(bundle, 'benchmark candidate');
  const release = await createRelease(db, {
    program: candidate.program,
    author: 'bench',
    summary: 'shadow cost',
    effectiveAt: new Date().toISOString(),
    expectations: { changes: [] },
    golden: { total: 1, failed: [] },
  });
  await startShadow(
    db,
    release.id,
    { sharePercent: 100, preview: false },
    'bench',
    'measure the cost of shadow evaluation',
  );
  return release.id;
}
