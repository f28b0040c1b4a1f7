// npm run bench:surge — a surge, measured. Two instances of the real `entitle serve` share
// PostgreSQL behind Debian's nginx, with a release in shadow at 100% (so shadow evaluation is real
// work to shed) and one assessment in ten asking for the full explanation trace. Each run:
//   1. the anchor: the fleet's capacity, closed loop (autocannon, 96 connections, every answer 201),
//      with the CPU each part uses meanwhile, for the capacity model (assessments/s per core);
//   2. once the fleet has settled from the anchor, steady open-loop load at a tenth of that
//      capacity for 30 s;
//   3. ten times that load for 120 s: the anchor's rate, which the fleet cannot decide in full
//      while the load generator shares its two cores, as when citizens refresh and retry;
//   4. the steady load again for 60 s.
// Every request has its own applicationId and Idempotency-Key. Nothing but a 201 or a 503 with
// Retry-After is allowed: any other answer, or a 503 outside the surge, fails the benchmark, as
// does a decision count that differs from the 201s answered. 3 runs; medians.
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { testDatabases } from '../../src/testing/index.ts';
import {
  benchFleet,
  closedLoop,
  cpuNow,
  openLoad,
  quantile,
  scrape,
  settle,
  total,
  type Answer,
  type LoadTarget,
} from '../fleet-load.ts';
import { median } from '../median.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const STEADY_SECONDS = Number(process.env.BENCH_STEADY_SECONDS ?? 30);
const SURGE_SECONDS = Number(process.env.BENCH_SURGE_SECONDS ?? 120);
const AFTER_SECONDS = Number(process.env.BENCH_AFTER_SECONDS ?? 60);
const STEADY_SHARE = Number(process.env.BENCH_STEADY_SHARE ?? 0.1);
const SURGE_FACTOR = 10;
const ANCHOR_CONNECTIONS = 96;
const LATENCY_OBJECTIVE_MS = 500;
const body = JSON.parse(
  await readFile(new URL('../../examples/universal-credit.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

const COUNTERS = [
  'entitle_admission_rejected_total',
  'entitle_degradation_shed_total',
  'entitle_degradation_changes_total',
  'entitle_release_shadow_dropped_total',
  'entitle_assessment_idempotent_replays_total',
];

interface PhaseFigures {
  readonly offered: number;
  readonly decided: number;
  readonly rejected: number;
  readonly p50: number;
  readonly p99: number;
  readonly rejectedP50: number;
  readonly rejectedP99: number;
}

interface RunFigures {
  readonly capacity: number;
  readonly capacityP99: number;
  /** Cores busy during the anchor (CPU seconds a second), by part. */
  readonly cores: {
    readonly entitle: number;
    readonly postgres: number;
    readonly nginx: number;
    readonly generator: number;
  };
  readonly steady: PhaseFigures;
  readonly surge: PhaseFigures;
  readonly after: PhaseFigures;
  readonly shed: Record<string, number>;
  readonly maxLevel: number;
  /** Seconds from the end of the surge until every second is back to steady answers. */
  readonly recoveredS: number;
  /** Seconds from the end of the surge until both instances have restored every step. */
  readonly restoredS: number;
}

function figures(answers: readonly Answer[], seconds: number, rate: number): PhaseFigures {
  const decided = answers.filter((a) => a.status === 201).map((a) => a.ms);
  const rejected = answers.filter((a) => a.status === 503).map((a) => a.ms);
  return {
    offered: rate,
    decided: Math.round(decided.length / seconds),
    rejected: rejected.length,
    p50: quantile(decided, 0.5),
    p99: quantile(decided, 0.99),
    rejectedP50: quantile(rejected, 0.5),
    rejectedP99: quantile(rejected, 0.99),
  };
}

/** Anything but a 201 or a 503 with Retry-After fails the run, and a 503 where `rejectable` is false. */
function check(answers: readonly Answer[], phase: string, rejectable: boolean): void {
  const wrong = new Map<string, number>();
  for (const a of answers) {
    const bad =
      a.status === 201
        ? undefined
        : a.status === 503
          ? !rejectable
            ? '503 while capacity remained'
            : a.retryAfter
              ? undefined
              : '503 without Retry-After'
          : String(a.status);
    if (bad) wrong.set(bad, (wrong.get(bad) ?? 0) + 1);
  }
  if (wrong.size > 0) throw new Error(`${phase}: ${JSON.stringify(Object.fromEntries(wrong))}`);
}

/** Per second of the run: how many were decided and refused, and the p99 of the decided. */
function perSecond(answers: readonly Answer[]): Map<number, { decided: number[]; rejected: number }> {
  const seconds = new Map<number, { decided: number[]; rejected: number }>();
  for (const a of answers) {
    const s = Math.floor(a.at / 1000);
    const bucket = seconds.get(s) ?? { decided: [], rejected: 0 };
    if (a.status === 201) bucket.decided.push(a.ms);
    else bucket.rejected++;
    seconds.set(s, bucket);
  }
  return seconds;
}

async function oneRun(run: number): Promise<RunFigures> {
  const database = await testDatabases.postgres();
  const { fleet, key } = await benchFleet(database, 'surge');
  try {
    // 1. The anchor: capacity, closed loop, after a warm-up.
    await closedLoop(fleet.url, key, body, ANCHOR_CONNECTIONS, 5); // warm-up
    const cpuBefore = await cpuNow(fleet.instanceUrls);
    const anchorStart = performance.now();
    const anchor = await closedLoop(fleet.url, key, body, ANCHOR_CONNECTIONS, 15);
    const anchorSeconds = (performance.now() - anchorStart) / 1000;
    const cpuAfter = await cpuNow(fleet.instanceUrls);
    const busy = (part: keyof typeof cpuBefore) =>
      Math.round((100 * (cpuAfter[part] - cpuBefore[part])) / anchorSeconds) / 100;
    const cores = {
      entitle: busy('entitle'),
      postgres: busy('postgres'),
      nginx: busy('nginx'),
      generator: busy('generator'),
    };
    const capacity = anchor.rate;
    // autocannon stops with requests in flight, which the service still records, and the anchor
    // leaves the instances degraded with shadow comparisons to catch up on: steady load that began
    // then would be refused for the anchor's sake. Count decisions once the fleet is calm again.
    if ((await settle(fleet.instanceUrls)) === undefined)
      console.error(`run ${run}: the fleet was not calm a minute after the anchor; going on anyway`);
    const countDecisions = async () =>
      (await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM decisions')).rows[0]!.n;
    const decisionsBefore = await countDecisions();
    const steadyRate = Math.round(capacity * STEADY_SHARE);

    // 2–4. Open loop: steady, surge, steady, one after the other with no gap.
    const origin = performance.now();
    const target: LoadTarget = {
      url: fleet.url,
      key,
      body,
      origin,
      connections: 4_000,
      traceEvery: 10,
      timeoutMs: 10_000,
    };
    const levels: { at: number; level: number }[] = [];
    const poller = setInterval(() => {
      const at = performance.now() - origin;
      void Promise.all(fleet.instanceUrls.map((u) => scrape(u, ['entitle_degradation_level']))).then(
        (s) => levels.push({ at, level: Math.max(...s.map((m) => m.get('entitle_degradation_level') ?? 0)) }),
        () => undefined,
      );
    }, 250);
    const before = await Promise.all(fleet.instanceUrls.map((u) => scrape(u, COUNTERS)));
    const steady = openLoad(target, steadyRate, STEADY_SECONDS, `S${run}`);
    await steady.sent;
    const surgeAt = performance.now() - origin;
    const surge = openLoad(target, steadyRate * SURGE_FACTOR, SURGE_SECONDS, `U${run}`);
    await surge.sent;
    const surgeEnd = performance.now() - origin;
    const after = openLoad(target, steadyRate, AFTER_SECONDS, `A${run}`);
    const [steadyAnswers, surgeAnswers, afterAnswers] = await Promise.all([
      steady.answered,
      surge.answered,
      after.answered,
    ]);
    await new Promise((r) => setTimeout(r, 1_000));
    clearInterval(poller);
    const end = await Promise.all(fleet.instanceUrls.map((u) => scrape(u, COUNTERS)));

    try {
      check(steadyAnswers, `run ${run}, steady`, false);
      check(surgeAnswers, `run ${run}, surge`, true);
      check(afterAnswers, `run ${run}, after`, true);
    } catch (error) {
      console.error(
        `capacity ${Math.round(capacity)}/s; nginx errors: ${JSON.stringify(countErrors(await fleet.errorLog()))}`,
      );
      throw error;
    }
    const decisions = (await countDecisions()) - decisionsBefore;
    const answered201 = [...steadyAnswers, ...surgeAnswers, ...afterAnswers].filter((a) => a.status === 201).length;
    if (decisions !== answered201)
      throw new Error(`run ${run}: ${decisions} decisions recorded for ${answered201} answered 201`);

    const steadyFigures = figures(steadyAnswers, STEADY_SECONDS, steadyRate);
    // Recovered: from this second on, every second refuses nobody and answers 99% within the
    // latency objective's 500 ms (the assessment_latency SLO).
    const series = perSecond([...surgeAnswers, ...afterAnswers]);
    const lastSecond = Math.floor((surgeEnd + AFTER_SECONDS * 1000) / 1000) - 1;
    let recoveredFrom = Math.floor(surgeEnd / 1000);
    for (let s = lastSecond; s >= Math.floor(surgeEnd / 1000); s--) {
      const bucket = series.get(s);
      if (bucket && (bucket.rejected > 0 || quantile(bucket.decided, 0.99) > LATENCY_OBJECTIVE_MS)) {
        recoveredFrom = s + 1;
        break;
      }
    }
    const lastDegraded = levels.filter((l) => l.level > 0).at(-1)?.at ?? surgeEnd;
    const shed: Record<string, number> = {};
    for (const [label, name, labels] of [
      ['queue full', 'entitle_admission_rejected_total', 'reason="queue_full"'],
      ['waited too long', 'entitle_admission_rejected_total', 'reason="waited_too_long"'],
      ['displaced', 'entitle_admission_rejected_total', 'reason="displaced"'],
      ['shadow comparisons shed', 'entitle_degradation_shed_total', 'step="shadow-evaluation"'],
      ['traces shed', 'entitle_degradation_shed_total', 'step="explanation-traces"'],
      ['shadow queue full', 'entitle_release_shadow_dropped_total', ''],
      ['idempotent replays', 'entitle_assessment_idempotent_replays_total', ''],
    ] as const) {
      shed[label] = total(end, name, labels) - total(before, name, labels);
    }

    for (let s = Math.floor(surgeAt / 1000) - 5; s <= lastSecond; s += 5) {
      const bucket = series.get(s) ?? perSecond(steadyAnswers).get(s);
      const level = Math.max(0, ...levels.filter((l) => Math.floor(l.at / 1000) === s).map((l) => l.level));
      if (bucket)
        console.error(
          `  run ${run} t=${s - Math.floor(surgeAt / 1000)} s: ${bucket.decided.length} decided, ${bucket.rejected} refused, p99 ${quantile(bucket.decided, 0.99)} ms, level ${level}`,
        );
    }
    const result: RunFigures = {
      capacity: Math.round(capacity),
      capacityP99: anchor.p99,
      cores,
      steady: steadyFigures,
      surge: figures(surgeAnswers, SURGE_SECONDS, steadyRate * SURGE_FACTOR),
      after: figures(afterAnswers, AFTER_SECONDS, steadyRate),
      shed,
      maxLevel: Math.max(0, ...levels.map((l) => l.level)),
      recoveredS: Math.max(0, recoveredFrom - surgeEnd / 1000),
      restoredS: Math.max(0, (lastDegraded - surgeEnd) / 1000),
    };
    console.error(`run ${run}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await fleet.stop();
    await database.drop();
  }
}

const runs: RunFigures[] = [];
for (let i = 1; i <= RUNS; i++) runs.push(await oneRun(i));

const m = (pick: (r: RunFigures) => number) => median(runs.map(pick));
const share = (x: number) => `${Math.round((100 * x) / m((r) => r.capacity))}%`;
console.log(
  `\nSurge on 2 instances behind nginx on PostgreSQL, a release in shadow at 100%, 1 in 10 asking for traces; median of ${RUNS} runs`,
);
console.log(
  `anchor (closed loop, ${ANCHOR_CONNECTIONS} connections): ${m((r) => r.capacity).toLocaleString('en-GB')} assessments/s, p99 ${m((r) => r.capacityP99)} ms`,
);
const perCore = (part: keyof RunFigures['cores']) => m((r) => Math.round(r.capacity / r.cores[part]));
console.log(
  `cores busy during the anchor: Entitle (both instances) ${m((r) => r.cores.entitle)}, PostgreSQL ${m((r) => r.cores.postgres)}, nginx ${m((r) => r.cores.nginx)}, load generator ${m((r) => r.cores.generator)}; ` +
    `assessments/s per busy core: Entitle ${perCore('entitle').toLocaleString('en-GB')}, PostgreSQL ${perCore('postgres').toLocaleString('en-GB')}, nginx ${perCore('nginx').toLocaleString('en-GB')}\n`,
);
console.log(
  '| phase | offered/s | decided (201)/s | share of anchor | p50 | p99 | refused (503) | 503 p50 | 503 p99 |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const [name, pick] of [
  [`steady, ${STEADY_SECONDS} s`, (r: RunFigures) => r.steady],
  [`surge x${SURGE_FACTOR}, ${SURGE_SECONDS} s`, (r: RunFigures) => r.surge],
  [`after, ${AFTER_SECONDS} s`, (r: RunFigures) => r.after],
] as const) {
  const f = (k: keyof PhaseFigures) => m((r) => pick(r)[k]);
  console.log(
    `| ${name} | ${f('offered').toLocaleString('en-GB')} | ${f('decided').toLocaleString('en-GB')} | ${share(f('decided'))} | ${f('p50')} ms | ${f('p99')} ms | ${f('rejected').toLocaleString('en-GB')} | ${f('rejectedP50')} ms | ${f('rejectedP99')} ms |`,
  );
}
console.log(`\nOther failures: 0 (every answer a 201 or a 503 with Retry-After; decisions recorded = 201s answered)`);
console.log(
  `Shed and refused in the surge: ${Object.keys(runs[0]!.shed)
    .map((k) => `${k} ${m((r) => r.shed[k]!).toLocaleString('en-GB')}`)
    .join('; ')}`,
);
console.log(
  `Highest degradation level: ${m((r) => r.maxLevel)}; answers back to steady ${m((r) => r.recoveredS).toFixed(1)} s after the surge; every step restored ${m((r) => r.restoredS).toFixed(1)} s after it`,
);

/** nginx's error log, as how many times each kind of message appears. */
function countErrors(log: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of log.split('\n')) {
    // Such as "upstream timed out while connecting to upstream": the message without its details.
    const kind = /\] \d+#\d+: (?:\*\d+ )?([^,]+)/
      .exec(line)?.[1]
      ?.replace(/ \([^)]*\)/g, '')
      .trim();
    if (kind) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}
