/**
 * Backtest: re-evaluates stored decisions under a candidate rule set, before it decides anything,
 * and reports what would have changed. Each decision is compared with the version that made it
 * (its recorded `ruleset_hash`), so a backtest over months that span a promotion compares each
 * decision with the rules that were actually applied; `baselineHash` compares every decision with
 * one version instead.
 *
 * Decisions are read in id order (UUIDv7, so time order) in keyset-paginated batches while
 * worker threads compare earlier batches: reading and comparing overlap, and at most two batches
 * per worker are in flight, so memory stays flat however many decisions there are. Inputs are
 * read as JSON text and parsed in the workers, where the parsing is spread across cores.
 */
import { appendAuditEvent } from '../audit/index.ts';
import { storedBundle } from '../decisions/index.ts';
import { getRelease, type Release } from '../releases/index.ts';
import { ruleSetFromBundle } from '../rules/index.ts';
import type { Database } from '../store/index.ts';
import { checkOptions, type BacktestOptions } from './options.ts';
import { decisionBatches, decisionRange } from './paging.ts';
import { Pool } from './pool.ts';
import { report, Totals, type BacktestResult } from './report.ts';

async function bundleOf(db: Database, hash: string): Promise<unknown> {
  const bundle = await storedBundle(db, hash);
  if (bundle === undefined) throw new Error(`no rule-set version ${hash} is stored`);
  return bundle;
}

/** Re-evaluates stored decisions under a candidate and reports the differences. */
export async function backtest(db: Database, options: BacktestOptions): Promise<BacktestResult> {
  const started = process.hrtime.bigint();
  const workers = checkOptions(options);
  const candidateBundle =
    'bundle' in options.candidate ? options.candidate.bundle : await bundleOf(db, options.candidate.hash);
  const candidate = ruleSetFromBundle(candidateBundle, 'the candidate rule set');
  const bundles = new Map<string, unknown>();
  if (options.baselineHash) bundles.set(options.baselineHash, await bundleOf(db, options.baselineHash));

  const totals = new Totals();
  const range = await decisionRange(db, candidate.benefit, options.window);
  if (!range)
    return {
      report: report(totals, candidate, options),
      workers,
      seconds: Number(process.hrtime.bigint() - started) / 1e9,
    };
  const total = options.onProgress
    ? Number(
        (
          await db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM decisions WHERE benefit = $1 AND id >= $2 AND id <= $3',
            [candidate.benefit, range.low, range.high],
          )
        ).rows[0]?.n ?? 0,
      )
    : 0;
  options.onProgress?.({ done: 0, total });

  const pool = new Pool(workers, {
    role: 'entitle-backtest',
    candidate: candidateBundle,
    expectations: options.expectations,
  });
  const limit = workers * 2;
  const inFlight = new Set<Promise<void>>();
  let failure: Error | undefined;
  try {
    let seq = 0;
    for await (const rows of decisionBatches(db, candidate.benefit, range, options.batchSize ?? 5_000)) {
      if (failure !== undefined) break;
      seq++;
      // Purged decisions have no inputs to replay: counted, not sent.
      const ids: string[] = [];
      const applicationIds: string[] = [];
      const texts: string[] = [];
      const hashes: string[] = [];
      const baselines = new Uint16Array(rows.length);
      for (const row of rows) {
        if (row.inputs === null) {
          totals.skipped++;
          continue;
        }
        const hash = options.baselineHash ?? row.ruleset_hash;
        let index = hashes.indexOf(hash);
        if (index === -1) index = hashes.push(hash) - 1;
        if (!bundles.has(hash)) bundles.set(hash, await bundleOf(db, hash));
        totals.versions.set(hash, (totals.versions.get(hash) ?? 0) + 1);
        baselines[ids.length] = index;
        ids.push(row.id);
        applicationIds.push(row.application_id);
        texts.push(row.inputs);
      }
      if (ids.length === 0) continue;

      const tracked: Promise<void> = pool
        .run({ seq, inputs: `[${texts.join(',')}]`, baselines: baselines.slice(0, ids.length), hashes }, bundles)
        .then((tally) => {
          totals.add(tally, ids, applicationIds);
          options.onProgress?.({ done: totals.compared + totals.skipped, total });
        })
        .catch((error: unknown) => void (failure ??= error instanceof Error ? error : new Error(String(error))))
        .finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= limit) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await pool.close();
  }
  if (failure !== undefined) throw failure;
  options.onProgress?.({ done: totals.compared + totals.skipped, total });
  return {
    report: report(totals, candidate, options),
    workers,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
}

/**
 * What the audit event keeps: the counts, sums and variable names, and the example decisions by
 * id only. The audit chain cannot be purged, so it holds no inputs, values or application ids.
 */
function backtestEvidence(result: BacktestResult): Record<string, unknown> {
  const { examples, ...summary } = result.report;
  return {
    ...summary,
    exampleDecisions: Object.fromEntries(
      Object.entries(examples).map(([kind, list]) => [kind, list.map((e) => e.decisionId)]),
    ),
    workers: result.workers,
    seconds: Math.round(result.seconds * 10) / 10,
  };
}

/**
 * Backtests a release on stored decisions and records the summary on it as evidence, in the audit
 * chain: what `entitle release backtest` and `POST /v1/releases/:id/backtest` do.
 */
export async function backtestRelease(
  db: Database,
  id: string,
  actor: string,
  options: Pick<BacktestOptions, 'window' | 'workers' | 'onProgress'>,
): Promise<{ release: Release; result: BacktestResult }> {
  const release = await getRelease(db, id);
  const result = await backtest(db, {
    candidate: { hash: release.rulesetHash },
    expectations: release.expectations,
    ...options,
  });
  await db.transaction((tx) =>
    appendAuditEvent(tx, {
      actor,
      action: 'release.backtested',
      subject: release.id,
      reason: `backtest of ${result.report.compared} decisions: ${result.report.kinds.unexpected} unexpected`,
      evidence: backtestEvidence(result),
    }),
  );
  return { release, result };
}
