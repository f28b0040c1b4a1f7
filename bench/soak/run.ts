// npm run bench:soak — memory under steady load. Two instances of the real `entitle serve` share
// PostgreSQL behind Debian's nginx, with a release in shadow at 100% and one assessment in ten
// asking for the full explanation trace, as in bench:surge. After a closed-loop anchor (the
// fleet's capacity, as in bench:surge) and a minute's warm-up, open-loop load at a fifth of it
// runs for 10 minutes (BENCH_SOAK_MINUTES) while each instance's resident set and V8 heap are
// read from its /metrics every 10 s. Reports, per instance, both at the first and the last
// minute, the highest, and the slope of a least-squares line through the readings. Every answer
// must be a 201.
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { testDatabases } from '../../src/store/testing.ts';
import { benchFleet, closedLoop, openLoad, scrape, type LoadTarget } from '../fleet-load.ts';

const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
const SAMPLE_MS = 10_000;
const MIB = 1024 * 1024;
const body = JSON.parse(await readFile(new URL('../../examples/universal-credit.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const MEMORY = ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes'] as const;

interface Reading {
  readonly minutes: number;
  readonly rss: number;
  readonly heap: number;
}

/** Slope of the least-squares line through the readings, in MiB per minute. */
function slope(readings: readonly Reading[], pick: (r: Reading) => number): number {
  const n = readings.length;
  const mx = readings.reduce((s, r) => s + r.minutes, 0) / n;
  const my = readings.reduce((s, r) => s + pick(r), 0) / n;
  const sxy = readings.reduce((s, r) => s + (r.minutes - mx) * (pick(r) - my), 0);
  const sxx = readings.reduce((s, r) => s + (r.minutes - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx / MIB;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const database = await testDatabases.postgres();
const { fleet, key } = await benchFleet(database, 'soak');
try {
  const anchor = await closedLoop(fleet.url, key, body, 96, 15);
  const rate = Math.round(anchor.rate / 5);
  console.error(`anchor: ${Math.round(anchor.rate)} assessments/s closed loop; soaking at ${rate}/s for ${MINUTES} min after a minute's warm-up`);

  const origin = performance.now();
  const target: LoadTarget = { url: fleet.url, key, body, origin, connections: 512, traceEvery: 10, timeoutMs: 10_000 };
  const warm = openLoad(target, rate, 60, 'W');
  await warm.sent;
  const soakStart = performance.now();
  const readings: Reading[][] = fleet.instanceUrls.map(() => []);
  const read = async () => {
    const minutes = (performance.now() - soakStart) / 60_000;
    const scrapes = await Promise.all(fleet.instanceUrls.map((u) => scrape(u, MEMORY)));
    scrapes.forEach((s, i) => readings[i]!.push({ minutes, rss: s.get('process_resident_memory_bytes')!, heap: s.get('nodejs_heap_size_used_bytes')! }));
  };
  await read();
  const sampler = setInterval(() => void read(), SAMPLE_MS);
  const soak = openLoad(target, rate, MINUTES * 60, 'K');
  await soak.sent;
  clearInterval(sampler);
  await read();
  const answers = [...(await warm.answered), ...(await soak.answered)];
  const wrong = answers.filter((a) => a.status !== 201);
  if (wrong.length > 0) throw new Error(`${wrong.length} of ${answers.length} answers were not 201: ${JSON.stringify([...new Set(wrong.map((a) => a.status))])}`);

  console.log(`\nSoak: ${MINUTES} min at ${rate} assessments/s open loop (a fifth of the ${Math.round(anchor.rate)}/s anchor), ${answers.length.toLocaleString('en-GB')} assessments, every one a 201\n`);
  console.log('| instance | measure | first minute | last minute | highest | slope |');
  console.log('|---|---|---:|---:|---:|---:|');
  readings.forEach((rs, i) => {
    for (const [name, pick] of [
      ['resident set (RSS)', (r: Reading) => r.rss],
      ['V8 heap used', (r: Reading) => r.heap],
    ] as const) {
      const first = mean(rs.filter((r) => r.minutes <= 1).map(pick)) / MIB;
      const last = mean(rs.filter((r) => r.minutes >= MINUTES - 1).map(pick)) / MIB;
      const highest = Math.max(...rs.map(pick)) / MIB;
      console.log(`| ${i + 1} | ${name} | ${first.toFixed(1)} MiB | ${last.toFixed(1)} MiB | ${highest.toFixed(1)} MiB | ${slope(rs, pick) >= 0 ? '+' : ''}${slope(rs, pick).toFixed(2)} MiB/min |`);
    }
  });
} finally {
  await fleet.stop();
  await database.drop();
}
