// npm run bench:backtest — how long a release backtest takes over BENCH_DECISIONS stored
// decisions (1,000,000 by default) on PostgreSQL, with 2 worker threads. Target: a million in
// under 60 s on a 2-core machine.
//
// The decisions live in their own database, entitle_bench_backtest, on the server DATABASE_URL
// names (or the local test server). It is created if absent and kept between runs: recording a
// million chained decisions takes minutes, so it is done once and topped up when BENCH_DECISIONS
// grows. They are synthetic Universal Credit decisions (src/simulate, seed 2026) made with the
// bundled rule set; the candidate is that rule set with the earnings taper at 56%, so every
// earner above the work allowance differs and the report has real work to do.
//
// Three backtests are timed; the figure is the median. The anchor, measured in the same run, is
// the same keyset-paginated read of the same rows with nothing compared (pure read throughput):
// this machine's speed moves from day to day, and the ratio to the anchor moves less.
import { backtest, decisionBatches, decisionRange } from '../../src/backtest/index.ts';
import { NO_CHANGES } from '../../src/comparison/index.ts';
import { DecisionWriter } from '../../src/decisions/index.ts';
import { recordDecisions, simulate, simulationOptions } from '../../src/simulate/index.ts';
import { migrate, openPostgres, type Database } from '../../src/store/index.ts';
import { compile, taper, TEST_POSTGRES_URL, ucBundle } from '../../src/testing/index.ts';
import { median } from '../median.ts';

const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 1_000_000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const RUNS = 3;
const TARGET_SECONDS = 60;
const DATABASE = 'entitle_bench_backtest';

const rate = (n: number, seconds: number) => Math.round(n / seconds).toLocaleString('en-GB');

/** The bench database on the configured server, created the first time. */
async function openBenchDatabase(): Promise<Database> {
  const server = process.env.DATABASE_URL || TEST_POSTGRES_URL;
  const admin = openPostgres({ connectionString: server, maxConnections: 1 });
  try {
    const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (rows.length === 0) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.close();
  }
  const url = new URL(server);
  url.pathname = `/${DATABASE}`;
  // Recording a large group-commit batch can take longer than the service's 5 s statement limit.
  const db = openPostgres({ connectionString: url.toString(), timeoutMs: 120_000 });
  await migrate(db);
  return db;
}

/** Tops the database up to DECISIONS decisions; the requests continue the same seeded sequence. */
async function ensureDecisions(db: Database): Promise<void> {
  const { rows } = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM decisions WHERE benefit = 'universal-credit'",
  );
  const have = Number(rows[0]?.n ?? 0);
  if (have >= DECISIONS) {
    console.error(`${have.toLocaleString('en-GB')} decisions already recorded in ${DATABASE}`);
    return;
  }
  const missing = DECISIONS - have;
  console.error(
    `recording ${missing.toLocaleString('en-GB')} synthetic decisions (done once; the database is kept)...`,
  );
  const active = compile(await ucBundle());
  // Larger transactions than the service's default: nothing waits on any one decision here.
  const writer = new DecisionWriter(db, undefined, { maxBatch: 5_000 });
  const requests = (function* () {
    let i = 0;
    for (const request of simulate(simulationOptions({ seed: 2026 }), DECISIONS)) if (++i > have) yield request;
  })();
  const started = process.hrtime.bigint();
  let shown = 0;
  const summary = await recordDecisions(requests, active, writer, {
    concurrency: 20_000,
    onProgress: (done) => {
      if (done === shown || (done - shown < 100_000 && done < missing)) return;
      shown = done;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      console.error(`  ${done.toLocaleString('en-GB')} in ${seconds.toFixed(0)} s (${rate(done, seconds)}/s)`);
    },
  });
  await writer.drain();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.error(
    `recorded ${summary.recorded.toLocaleString('en-GB')} in ${seconds.toFixed(1)} s (${rate(summary.recorded, seconds)}/s)`,
  );
}

/** The anchor: the backtest's own read of every decision, with nothing sent or compared. */
async function readOnly(db: Database): Promise<{ rows: number; seconds: number }> {
  const started = process.hrtime.bigint();
  const range = await decisionRange(db, 'universal-credit', undefined);
  let rows = 0;
  if (range) for await (const batch of decisionBatches(db, 'universal-credit', range, 5_000)) rows += batch.length;
  return { rows, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

const db = await openBenchDatabase();
try {
  await ensureDecisions(db);
  const candidate = compile(taper(await ucBundle(), '56%')).program.bundle;

  const anchors: number[] = [];
  const times: number[] = [];
  let decisions = 0;
  await readOnly(db); // warm-up: the table into the page cache
  for (let run = 1; run <= RUNS; run++) {
    const anchor = await readOnly(db);
    anchors.push(anchor.seconds);
    const result = await backtest(db, { candidate: { bundle: candidate }, expectations: NO_CHANGES, workers: WORKERS });
    const r = result.report;
    decisions = r.decisions;
    if (r.decisions !== anchor.rows)
      throw new Error(`the backtest read ${r.decisions} decisions and the anchor ${anchor.rows}`);
    times.push(result.seconds);
    console.error(
      `run ${run}: backtest ${result.seconds.toFixed(1)} s (${rate(r.decisions, result.seconds)} decisions/s; ${r.kinds.unexpected.toLocaleString('en-GB')} unexpected, ${r.awards.losing.toLocaleString('en-GB')} lose); read only ${anchor.seconds.toFixed(1)} s (${rate(anchor.rows, anchor.seconds)}/s)`,
    );
  }
  const seconds = median(times);
  const anchor = median(anchors);
  console.log(`\n${decisions.toLocaleString('en-GB')} decisions, ${WORKERS} workers, median of ${RUNS} runs\n`);
  console.log('| measure | seconds | decisions/s |');
  console.log('|---|---|---|');
  console.log(`| backtest (read, compare, report) | ${seconds.toFixed(1)} | ${rate(decisions, seconds)} |`);
  console.log(`| anchor: the same read, nothing compared | ${anchor.toFixed(1)} | ${rate(decisions, anchor)} |`);
  console.log(`\nbacktest / anchor: ${(seconds / anchor).toFixed(2)}x the time of reading alone`);
  const perMillion = (seconds * 1_000_000) / decisions;
  console.log(
    `target: 1,000,000 in under ${TARGET_SECONDS} s; at this rate ${perMillion.toFixed(1)} s: ${perMillion < TARGET_SECONDS ? 'met' : 'MISSED'}`,
  );
} finally {
  await db.close();
}
