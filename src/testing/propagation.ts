// Measures how long a promotion or rollback takes to reach every instance: used by the
// propagation test (src/live/propagation.test.ts) and benchmark (npm run bench:propagation).
import {
  approveRelease,
  createRelease,
  promoteRelease,
  rollbackRelease,
  startShadow,
  type GateSettings,
} from '../releases/index.ts';
import type { RuleProgram } from '../rules/index.ts';
import type { Database } from '../store/index.ts';

/** Waits until every instance's /version serves `hash` for `benefit`; resolves with each one's delay in ms from `since`. */
export async function whenServed(
  urls: readonly string[],
  benefit: string,
  hash: string,
  since: number,
  timeoutMs = 10_000,
): Promise<number[]> {
  return Promise.all(
    urls.map(async (url) => {
      for (;;) {
        const response = await fetch(`${url}/version`);
        const body = (await response.json()) as { rules: Record<string, { hash: string }> };
        if (body.rules[benefit]?.hash === hash) return performance.now() - since;
        if (performance.now() - since > timeoutMs)
          throw new Error(`${url} did not switch to ${hash} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 2));
      }
    }),
  );
}

/**
 * One promotion then one rollback of `candidate` (two switches), each timed from the moment the
 * step is asked for until the last instance serves the new version. The gates given let the
 * release through without traffic; approval is by a second person, as always.
 */
export async function switchTwice(
  db: Database,
  urls: readonly string[],
  candidate: RuleProgram,
  baselineHash: string,
  gates: GateSettings,
): Promise<{ promotion: number[]; rollback: number[] }> {
  const release = await createRelease(db, {
    program: candidate,
    author: 'author',
    summary: 'propagation measurement',
    effectiveAt: new Date(Date.now() - 60_000).toISOString(),
    expectations: { changes: [] },
    golden: { total: 1, failed: [] },
  });
  await startShadow(db, release.id, { sharePercent: 1, preview: false }, 'author', 'propagation measurement');
  await approveRelease(db, release.id, 'promotion', 'approver', 'propagation measurement');
  let since = performance.now();
  await promoteRelease(db, release.id, 'approver', 'propagation measurement', gates);
  const promotion = await whenServed(urls, candidate.benefit, candidate.hash, since);
  since = performance.now();
  await rollbackRelease(db, release.id, 'operator', 'propagation measurement');
  const rollback = await whenServed(urls, candidate.benefit, baselineHash, since);
  return { promotion, rollback };
}
