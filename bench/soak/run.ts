// npm run bench:soak — memory under steady load. Two instances of the real `entitle serve` share
// PostgreSQL behind Debian's nginx, with a release in shadow at 100% and one assessment in ten
// asking for the full explanation trace, as in bench:surge. After a closed-loop anchor (the
// fleet's capacity, as in bench:surge), a wait for the fleet to settle from it and a minute's
// warm-up, open-loop load at a fifth of the anchor runs for 10 minutes (BENCH_SOAK_MINUTES) while
// each instance's resident set and V8 heap are read from its /metrics every 10 s. Reports, per
// instance, both at the first and the last minute, the highest, the slope of a least-squares line
// through the readings, and the slope through each minute's lowest reading (the floor left after
// garbage collection). Every answer must be a 201; when one is not, the run fails after the memory
// table, listing each second that had one with what the instances' pressure gauges read (sampled
// every second).
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { testDatabases } from '../../src/testing/index.ts';
import {
  benchFleet,
  closedLoop,
  openLoad,
  scrape,
  settle,
  total,
  type Answer,
  type LoadTarget,
} from '../fleet-load.ts';

const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
const SAMPLE_MS = 10_000;
const MIB = 1024 * 1024;
const body = JSON.parse(
  await readFile(new URL('../../examples/universal-credit.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const MEMORY = ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes'] as const;
const PRESSURE = [
  'entitle_pressure_event_loop_delay_seconds',
  'entitle_pressure_db_pool_waiting',
  'entitle_admission_queue_depth',
  'entitle_degradation_level',
] as const;
const REFUSALS = ['entitle_admission_rejected_total'] as const;

/** Each instance's pressure gauges at one second of the run. */
interface Pressure {
  readonly second: number;
  readonly instances: readonly Map<string, number>[];
}

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

/**
 * Each whole minute's lowest reading, at that minute. The heap is a sawtooth between collections,
 * so a slope through every reading moves with where the last collection fell; the floor is what
 * survives collection, and a leak shows as a rising floor.
 */
function floors(readings: readonly Reading[], pick: (r: Reading) => number): Reading[] {
  const minutes = groupBy(readings, (r) => Math.floor(r.minutes));
  // A minute with one or two readings (the last) has no floor to speak of.
  return [...minutes]
    .filter(([, rs]) => rs.length >= 3)
    .map(([minute, rs]) => ({ ...rs.reduce((low, r) => (pick(r) < pick(low) ? r : low)), minutes: minute }));
}

const database = await testDatabases.postgres();
const { fleet, key } = await benchFleet(database, 'soak');
try {
  const anchor = await closedLoop(fleet.url, key, body, 96, 15);
  const rate = Math.round(anchor.rate / 5);
  console.error(
    `anchor: ${Math.round(anchor.rate)} assessments/s closed loop; soaking at ${rate}/s for ${MINUTES} min after a minute's warm-up`,
  );

  // The anchor saturates the fleet: it leaves instances degraded, with shadow comparisons and
  // chain verification to catch up on. A soak that began then would measure that, not steady load.
  const settled = await settle(fleet.instanceUrls);
  console.error(
    settled === undefined
      ? 'the fleet was not calm a minute after the anchor; soaking anyway'
      : `settled ${(settled / 1000).toFixed(1)} s after the anchor`,
  );

  const origin = performance.now();
  const pressure: Pressure[] = [];
  const gauges = setInterval(() => {
    const second = Math.round((performance.now() - origin) / 1000);
    void Promise.all(fleet.instanceUrls.map((u) => scrape(u, PRESSURE))).then((instances) =>
      pressure.push({ second, instances }),
    );
  }, 1000);
  const target: LoadTarget = { url: fleet.url, key, body, origin, connections: 512, traceEvery: 10, timeoutMs: 10_000 };
  const warm = openLoad(target, rate, 60, 'W');
  await warm.sent;
  const soakStart = performance.now();
  const readings: Reading[][] = fleet.instanceUrls.map(() => []);
  const read = async () => {
    const minutes = (performance.now() - soakStart) / 60_000;
    const scrapes = await Promise.all(fleet.instanceUrls.map((u) => scrape(u, MEMORY)));
    scrapes.forEach((s, i) =>
      readings[i]!.push({
        minutes,
        rss: s.get('process_resident_memory_bytes')!,
        heap: s.get('nodejs_heap_size_used_bytes')!,
      }),
    );
  };
  await read();
  const sampler = setInterval(() => void read(), SAMPLE_MS);
  const soak = openLoad(target, rate, MINUTES * 60, 'K');
  await soak.sent;
  clearInterval(sampler);
  clearInterval(gauges);
  await read();
  const answers = [...(await warm.answered), ...(await soak.answered)];
  const wrong = answers.filter((a) => a.status !== 201);
  const refusals = await Promise.all(fleet.instanceUrls.map((u) => scrape(u, REFUSALS)));

  const outcome = wrong.length === 0 ? 'every one a 201' : `${wrong.length.toLocaleString('en-GB')} not a 201`;
  console.log(
    `\nSoak: ${MINUTES} min at ${rate} assessments/s open loop (a fifth of the ${Math.round(anchor.rate)}/s anchor), ${answers.length.toLocaleString('en-GB')} assessments, ${outcome}\n`,
  );
  console.log('| instance | measure | first minute | last minute | highest | slope | slope of the floor |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  readings.forEach((rs, i) => {
    for (const [name, pick] of [
      ['resident set (RSS)', (r: Reading) => r.rss],
      ['V8 heap used', (r: Reading) => r.heap],
    ] as const) {
      const first = mean(rs.filter((r) => r.minutes <= 1).map(pick)) / MIB;
      const last = mean(rs.filter((r) => r.minutes >= MINUTES - 1).map(pick)) / MIB;
      const highest = Math.max(...rs.map(pick)) / MIB;
      const perMinute = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(2)} MiB/min`;
      const floor = slope(floors(rs, pick), pick);
      console.log(
        `| ${i + 1} | ${name} | ${first.toFixed(1)} MiB | ${last.toFixed(1)} MiB | ${highest.toFixed(1)} MiB | ${perMinute(slope(rs, pick))} | ${perMinute(floor)} |`,
      );
    }
  });
  if (wrong.length > 0) {
    reportWrong(wrong, pressure, refusals);
    throw new Error(`${wrong.length} of ${answers.length} answers were not 201`);
  }
} finally {
  await fleet.stop();
  await database.drop();
}

/** Map.groupBy, which Node 20 lacks. */
function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Each second that had an answer other than a 201: what it was, and what the gauges read then. */
function reportWrong(
  wrong: readonly Answer[],
  pressure: readonly Pressure[],
  refusals: readonly Map<string, number>[],
): void {
  console.log('\nAnswers other than 201, by the second they were sent (from the start of the warm-up):\n');
  console.log(
    '| second | answers | slowest | gauges per instance around it: event-loop p99, pool waiting, queue depth, level |',
  );
  console.log('|---:|---|---:|---|');
  const bySecond = groupBy(wrong, (a) => Math.floor(a.at / 1000));
  for (const [second, group] of bySecond) {
    const kinds = [...groupBy(group, (a) => `${a.status} ${a.code ?? ''}`.trim())]
      .map(([k, g]) => `${g.length}× ${k}`)
      .join(', ');
    const around = pressure
      .filter((p) => Math.abs(p.second - second) <= 2)
      .map(
        (p) =>
          `${p.second}s ` +
          p.instances
            .map((i) =>
              PRESSURE.map((name) =>
                name === PRESSURE[0] ? `${Math.round(i.get(name)! * 1000)} ms` : String(total([i], name)),
              ).join('/'),
            )
            .join(' · '),
      )
      .join('; ');
    console.log(`| ${second} | ${kinds} | ${Math.round(Math.max(...group.map((a) => a.ms)))} ms | ${around} |`);
  }
  console.log(
    '\nRefused by admission control (both instances):',
    ['queue_full', 'waited_too_long', 'displaced']
      .map((reason) => `${reason} ${total(refusals, 'entitle_admission_rejected_total', `reason="${reason}"`)}`)
      .join(', '),
  );
}
