// npm run bench:faults — the service on PostgreSQL under steady assessment load while a proxy
// refuses, resets, freezes and slows the database's connections (src/testing/fault-run.ts, the
// same scenario the fault suite asserts on). Reports the requests, the answers by status, the
// slowest answer, decisions acknowledged against decisions found, decisions answered "in doubt"
// and those later found recorded, and the time to recover. BENCH_RUNS runs (3 by default);
// medians. The anchor is the healthy phase of the same run: its slowest answer and its rate.
import { runFaultScenario, type FaultRunResult } from '../../src/testing/index.ts';
import { median } from '../median.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TIMEOUT_MS = Number(process.env.BENCH_DB_TIMEOUT_MS ?? 1_500);

const runs: FaultRunResult[] = [];
for (let i = 0; i < RUNS; i++) {
  console.error(`run ${i + 1} of ${RUNS}...`);
  runs.push(await runFaultScenario({ timeoutMs: TIMEOUT_MS, clients: 8, scale: 1 }));
}
const m = (pick: (r: FaultRunResult) => number) => median(runs.map(pick));
const statuses = [...new Set(runs.flatMap((r) => Object.keys(r.byStatus)))].sort();
console.log(`# Faults: ${RUNS} run(s), ENTITLE_DB_TIMEOUT_MS=${TIMEOUT_MS}, 8 clients (medians)\n`);
console.log('| figure | median |\n|---|---:|');
console.log(`| requests | ${m((r) => r.requests)} |`);
for (const status of statuses) console.log(`| answered ${status} | ${m((r) => r.byStatus[status] ?? 0)} |`);
console.log(`| other answers (5xx but 503, 503 without Retry-After, no answer) | ${m((r) => r.violations.length)} |`);
console.log(`| slowest answer | ${m((r) => r.slowestMs)} ms |`);
console.log(`| decisions acknowledged (201) | ${m((r) => r.acknowledged)} |`);
console.log(`| of them found recorded | ${m((r) => r.found)} |`);
console.log(`| answered 503 in doubt | ${m((r) => r.inDoubt)} |`);
console.log(`| listed as unacknowledged afterwards | ${m((r) => r.unacknowledged)} |`);
console.log(`| first decision after the last fault | ${m((r) => r.recoveryMs)} ms |`);
console.log(`| record verified | ${runs.every((r) => r.recordVerified) ? 'every run' : 'NOT in every run'} |`);
console.log('\n| phase | requests | 201 | 503 | slowest |\n|---|---:|---:|---:|---:|');
for (const [i, p] of runs[0]!.phases.entries()) {
  const at = (pick: (q: typeof p) => number) => median(runs.map((r) => pick(r.phases[i]!)));
  console.log(
    `| ${p.phase} | ${at((q) => q.requests)} | ${at((q) => q.byStatus['201'] ?? 0)} | ${at((q) => q.byStatus['503'] ?? 0)} | ${at((q) => q.slowestMs)} ms |`,
  );
}
if (runs.some((r) => r.violations.length > 0 || r.found !== r.acknowledged || !r.recordVerified)) process.exitCode = 1;
