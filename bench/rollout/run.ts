// npm run bench:rollout — the rolling deploy and rollback proof, measured. Three instances of the
// real `entitle serve` share PostgreSQL behind Debian's nginx; under constant load (16 concurrent
// clients sending assessments), each instance is replaced in turn with a new version, then rolled
// back the same way. 3 runs; reports the median of each figure. The anchor is the same load on the
// same fleet with nothing rolling, measured first in each run. Every request must succeed.
import { readFile } from 'node:fs/promises';
import { createKey } from '../../src/keys/index.ts';
import { proveRollingDeploy, testDatabases, type RollingProof } from '../../src/testing/index.ts';
import { median } from '../median.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CONNECTIONS = 16;
const body: unknown = JSON.parse(
  await readFile(new URL('../../examples/universal-credit.json', import.meta.url), 'utf8'),
);

const proofs: RollingProof[] = [];
for (let i = 0; i < RUNS; i++) {
  const database = await testDatabases.postgres();
  try {
    const { key } = await createKey(database.db, 'rollout-bench', ['assessor']);
    const proof = await proveRollingDeploy({
      databaseUrl: database.url!,
      key,
      body,
      connections: CONNECTIONS,
      drainMs: 1_000,
      steadyMs: 2_000,
      baselineMs: 10_000,
      countDecisions: async () =>
        (await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM decisions')).rows[0]!.n,
    });
    const failed = proof.roll.failed + proof.rollback.failed;
    if (failed > 0)
      throw new Error(
        `run ${i + 1}: ${failed} requests failed: ${JSON.stringify([proof.roll.failures, proof.rollback.failures])}`,
      );
    if (proof.decisionsRecorded !== proof.answered)
      throw new Error(`run ${i + 1}: ${proof.decisionsRecorded} decisions recorded for ${proof.answered} answered`);
    proofs.push(proof);
    console.error(
      `run ${i + 1}: steady p99 ${proof.steady!.p99} ms; roll ${proof.roll.requests} requests, 0 failed, p99 ${proof.roll.p99} ms, all new after ${(proof.roll.allServingMs / 1000).toFixed(1)} s; rollback ${proof.rollback.requests} requests, 0 failed, p99 ${proof.rollback.p99} ms, all old after ${(proof.rollback.allServingMs / 1000).toFixed(1)} s`,
    );
  } finally {
    await database.drop();
  }
}

const m = (pick: (p: RollingProof) => number) => median(proofs.map(pick));
const rows = [
  [
    'anchor: steady load, nothing rolling',
    `${m((p) => Math.round(p.steady!.requests / p.steady!.seconds))} assessments/s`,
    `${m((p) => p.steady!.p50)} ms`,
    `${m((p) => p.steady!.p99)} ms`,
    '0',
    '',
  ],
  [
    'roll to the new version',
    `${m((p) => Math.round(p.roll.requests / p.roll.seconds))} assessments/s`,
    `${m((p) => p.roll.p50)} ms`,
    `${m((p) => p.roll.p99)} ms (${(m((p) => p.roll.p99) / m((p) => p.steady!.p99)).toFixed(1)}x)`,
    '0',
    `${(m((p) => p.roll.allServingMs) / 1000).toFixed(1)} s`,
  ],
  [
    'roll back',
    `${m((p) => Math.round(p.rollback.requests / p.rollback.seconds))} assessments/s`,
    `${m((p) => p.rollback.p50)} ms`,
    `${m((p) => p.rollback.p99)} ms (${(m((p) => p.rollback.p99) / m((p) => p.steady!.p99)).toFixed(1)}x)`,
    '0',
    `${(m((p) => p.rollback.allServingMs) / 1000).toFixed(1)} s`,
  ],
];
console.log(`Rolling deploy of 3 instances behind nginx, ${CONNECTIONS} concurrent clients, median of ${RUNS} runs`);
console.log('| phase | load | p50 | p99 | failed | until every instance serves it |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
