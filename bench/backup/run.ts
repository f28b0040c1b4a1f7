// npm run bench:backup — how long `entitle backup` and `entitle restore` take for BENCH_DECISIONS
// decisions (100,000 by default) on PostgreSQL: the recovery time the operations guide quotes.
// The decisions are synthetic Universal Credit decisions (src/simulate, seed 2026), placed in the
// verifiable log. Each run backs up the database, restores the file into a new empty database,
// and proves the restored log against the newest checkpoint (what `entitle restore` does).
//
// The anchor, measured in the same run on the same database, is PostgreSQL's own tools:
// `pg_dump --format=custom` and `pg_restore` into an empty database. BENCH_RUNS runs (3 by
// default); medians.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { backupTo, restoreFrom } from '../../src/backup/index.ts';
import { DecisionWriter, verifyChain } from '../../src/decisions/index.ts';
import { latestCheckpoint } from '../../src/log/index.ts';
import { recordDecisions, simulate, simulationOptions } from '../../src/simulate/index.ts';
import { compile, placeQueued, TEST_VERIFIER, testDatabases, ucBundle } from '../../src/testing/index.ts';
import { median } from '../median.ts';

const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const run = promisify(execFile);
const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

const source = await testDatabases.postgres();
const work = await mkdtemp(join(tmpdir(), 'entitle-bench-backup-'));
try {
  console.error(`recording ${DECISIONS.toLocaleString('en-GB')} decisions...`);
  const writer = new DecisionWriter(source.db, undefined, { maxBatch: 5_000 });
  await recordDecisions(simulate(simulationOptions({ seed: 2026 }), DECISIONS), compile(await ucBundle()), writer, {
    concurrency: 20_000,
  });
  await writer.drain();
  await placeQueued(source.db);
  const size = (await latestCheckpoint(source.db, 'decisions'))!.size;

  const rows: {
    backup: number;
    restore: number;
    verify: number;
    dump: number;
    pgRestore: number;
    bytes: number;
    dumpBytes: number;
  }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const file = join(work, `entitle-${i}.backup.gz`);
    let started = process.hrtime.bigint();
    await backupTo(source.db, file);
    const backup = seconds(started);

    const target = await testDatabases.postgres({ migrate: false });
    let restore: number;
    let verify: number;
    try {
      started = process.hrtime.bigint();
      await restoreFrom(target.db, file);
      restore = seconds(started);
      started = process.hrtime.bigint();
      const report = await verifyChain(target.db, { verifier: TEST_VERIFIER });
      verify = seconds(started);
      if (!report.ok || report.verified !== size)
        throw new Error(`the restored log does not verify: ${JSON.stringify(report)}`);
    } finally {
      await target.drop();
    }

    const dumpFile = join(work, `pg-${i}.dump`);
    started = process.hrtime.bigint();
    await run('pg_dump', ['--format=custom', `--file=${dumpFile}`, `--dbname=${source.url!}`]);
    const dump = seconds(started);
    const anchorTarget = await testDatabases.postgres({ migrate: false });
    try {
      started = process.hrtime.bigint();
      await run('pg_restore', ['--no-owner', `--dbname=${anchorTarget.url!}`, dumpFile]);
    } finally {
      const pgRestore = seconds(started);
      await anchorTarget.drop();
      rows.push({
        backup,
        restore,
        verify,
        dump,
        pgRestore,
        bytes: (await stat(file)).size,
        dumpBytes: (await stat(dumpFile)).size,
      });
    }
    const r = rows.at(-1)!;
    console.error(
      `run ${i + 1}: backup ${r.backup.toFixed(1)} s, restore ${r.restore.toFixed(1)} s, verify ${r.verify.toFixed(1)} s; pg_dump ${r.dump.toFixed(1)} s, pg_restore ${r.pgRestore.toFixed(1)} s`,
    );
  }
  const m = (pick: (r: (typeof rows)[number]) => number) => median(rows.map(pick));
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  console.log(`\n${DECISIONS.toLocaleString('en-GB')} decisions on PostgreSQL, ${RUNS} runs; medians\n`);
  console.log('| step | Entitle | anchor (pg_dump / pg_restore) | ratio |');
  console.log('|---|---:|---:|---:|');
  console.log(
    `| backup | ${m((r) => r.backup).toFixed(1)} s, ${mib(m((r) => r.bytes))} | ${m((r) => r.dump).toFixed(1)} s, ${mib(m((r) => r.dumpBytes))} | ${(m((r) => r.backup) / m((r) => r.dump)).toFixed(2)} |`,
  );
  console.log(
    `| restore | ${m((r) => r.restore).toFixed(1)} s | ${m((r) => r.pgRestore).toFixed(1)} s | ${(m((r) => r.restore) / m((r) => r.pgRestore)).toFixed(2)} |`,
  );
  console.log(`| prove the restored log (audit verify of the decisions) | ${m((r) => r.verify).toFixed(1)} s | | |`);
} finally {
  await rm(work, { recursive: true, force: true });
  await source.drop();
}
