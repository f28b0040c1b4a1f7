// The fleet and the load for the surge and soak benchmarks. Open-loop load: assessments sent at a fixed arrival rate
// whatever the service answers, as citizens arrive, rather than each client waiting for its last
// answer (closed loop), which slows down with the service and hides an overload. autocannon's
// rate limit sends each connection's quota at the start of every second, a burst rather than a
// rate, so the schedule is kept here (by hand, a few lines) and undici's Pool does the HTTP.
import { readdir, readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { createKey } from '../src/keys/index.ts';
import type { Database } from '../src/store/index.ts';
import { Fleet } from '../src/testing/index.ts';
import { shadowRelease } from './shadow-release.ts';

/**
 * Two instances of `entitle serve` on one PostgreSQL database behind nginx, an assessor key, and a
 * release in shadow at 100% that every instance already follows.
 */
export async function benchFleet(
  database: { url?: string; db: Database },
  version: string,
): Promise<{ fleet: Fleet; key: string }> {
  const fleet = await Fleet.start({
    databaseUrl: database.url!,
    instances: 2,
    version,
    drainMs: 0,
    clientKeepAlive: true,
  });
  try {
    const { key } = await createKey(database.db, `${version}-bench`, ['assessor']);
    await shadowRelease(database.db);
    await new Promise((r) => setTimeout(r, 1_500));
    return { fleet, key };
  } catch (error) {
    await fleet.stop();
    throw error;
  }
}

/** Closed-loop load (autocannon): the anchor, what the fleet decides at most. Every answer must be a 201. */
export async function closedLoop(
  url: string,
  key: string,
  body: unknown,
  connections: number,
  seconds: number,
): Promise<{ rate: number; p99: number; answered: number }> {
  const result = await autocannon({
    url: `${url}/v1/assessments`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const wrong = result.non2xx + result.errors + result.timeouts;
  if (wrong > 0) throw new Error(`closed-loop load: ${wrong} answers were not 201`);
  return { rate: result.requests.average, p99: result.latency.p99, answered: result.requests.total };
}

export interface Answer {
  /** Milliseconds from the start of the whole run to when the request was sent. */
  readonly at: number;
  /** The HTTP status, or the error code when there was no answer. */
  readonly status: number | string;
  readonly ms: number;
  /** For a 503: whether it said when to retry. */
  readonly retryAfter?: boolean;
  /** For an answer other than a 201: the error code it gave (nginx's own pages give none). */
  readonly code?: string;
}

export interface LoadTarget {
  readonly url: string;
  readonly key: string;
  /** The household every request assesses; each request gets its own applicationId. */
  readonly body: Readonly<Record<string, unknown>>;
  /** Milliseconds since performance's origin at which the run began (Answer.at counts from it). */
  readonly origin: number;
  /** Open connections to nginx; enough that no request waits for one. */
  readonly connections: number;
  /** One request in this many asks for the full explanation trace. */
  readonly traceEvery: number;
  readonly timeoutMs: number;
}

export interface Phase {
  /** Settles when the last request has been sent: the moment to start the next phase. */
  readonly sent: Promise<void>;
  /** Every answer, once the last request is answered. */
  readonly answered: Promise<Answer[]>;
}

/** The `code` of an Entitle error body, or the start of the body when it is not one. */
function errorCode(text: string): string {
  try {
    const code = (JSON.parse(text) as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  } catch {
    // not JSON: nginx's own error page
  }
  return text.replace(/\s+/g, ' ').slice(0, 60);
}

/**
 * Sends `rate` assessments a second for `seconds`, each with a new applicationId (`tag`-n) and the
 * same as its Idempotency-Key.
 */
export function openLoad(target: LoadTarget, rate: number, seconds: number, tag: string): Phase {
  const pool = new Pool(target.url, {
    connections: target.connections,
    pipelining: 1,
    headersTimeout: target.timeoutMs,
    bodyTimeout: target.timeoutMs,
    keepAliveTimeout: 60_000,
  });
  const answers: Answer[] = [];
  const pending: Promise<void>[] = [];
  const total = Math.round(rate * seconds);
  const began = performance.now();
  let sent = 0;
  const send = (n: number): Promise<void> => {
    const start = performance.now();
    const applicationId = `${tag}-${n}`;
    return pool
      .request({
        path: n % target.traceEvery === 0 ? '/v1/assessments?explain=trace' : '/v1/assessments',
        method: 'POST',
        headers: {
          authorization: `Bearer ${target.key}`,
          'content-type': 'application/json',
          'idempotency-key': applicationId,
        },
        body: JSON.stringify({ ...target.body, applicationId }),
      })
      .then(
        async (response) => {
          const text = await response.body.text();
          const ms = performance.now() - start;
          const failed = response.statusCode === 201 ? {} : { code: errorCode(text) };
          answers.push({
            at: start - target.origin,
            status: response.statusCode,
            ms,
            ...failed,
            ...(response.statusCode === 503 ? { retryAfter: response.headers['retry-after'] !== undefined } : {}),
          });
        },
        (error: { code?: string; name?: string }) => {
          answers.push({
            at: start - target.origin,
            status: error.code ?? error.name ?? 'error',
            ms: performance.now() - start,
          });
        },
      );
  };
  const done = new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - began) / 1000) * rate));
      while (sent < due) pending.push(send(sent++));
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const answered = done.then(async () => {
    await Promise.all(pending);
    await pool.close();
    return answers;
  });
  return { sent: done, answered };
}

/** The q-quantile of some latencies in milliseconds, rounded (0 when there are none). */
export function quantile(ms: readonly number[], q: number): number {
  if (ms.length === 0) return 0;
  const sorted = [...ms].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);
}

/** Clock ticks a second in /proc/<pid>/stat (USER_HZ, 100 on Linux for every architecture in use). */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds used so far by every process whose name is `name` (such as postgres or nginx), from
 * /proc: what the service's own metrics cannot say about the parts around it. Linux only.
 */
export async function cpuSecondsOf(name: string): Promise<number> {
  let ticks = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const close = stat.lastIndexOf(')');
    if (close < 0 || stat.slice(stat.indexOf('(') + 1, close) !== name) continue;
    // After the name: state is field 3; utime and stime are fields 14 and 15.
    const fields = stat.slice(close + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SECOND;
}

/** CPU seconds used so far by the instances (their process_cpu_seconds_total), PostgreSQL, nginx and this process (the load generator). */
export async function cpuNow(
  instanceUrls: readonly string[],
): Promise<{ entitle: number; postgres: number; nginx: number; generator: number }> {
  const scrapes = await Promise.all(instanceUrls.map((u) => scrape(u, ['process_cpu_seconds_total'])));
  const own = process.cpuUsage();
  return {
    entitle: total(scrapes, 'process_cpu_seconds_total'),
    postgres: await cpuSecondsOf('postgres'),
    nginx: await cpuSecondsOf('nginx'),
    generator: (own.user + own.system) / 1e6,
  };
}

/** One instance's /metrics, as name{labels} → value for the series asked for. */
export async function scrape(instanceUrl: string, names: readonly string[]): Promise<Map<string, number>> {
  const text = await (await fetch(`${instanceUrl}/metrics`)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const series = line.slice(0, space);
    if (names.some((name) => series === name || series.startsWith(`${name}{`)))
      values.set(series, Number(line.slice(space + 1)));
  }
  return values;
}

/** The sum over instances of every series of `name` whose labels include `labels`. */
export function total(scrapes: readonly Map<string, number>[], name: string, labels = ''): number {
  let sum = 0;
  for (const values of scrapes)
    for (const [series, value] of values)
      if ((series === name || series.startsWith(`${name}{`)) && series.includes(labels)) sum += value;
  return sum;
}

const CALM = [
  'entitle_pressure_event_loop_delay_seconds',
  'entitle_admission_queue_depth',
  'entitle_degradation_level',
];

/**
 * Waits until every instance is back to level 0 with nobody waiting for admission and its event
 * loop calm, for 3 readings in a row. Returns the milliseconds it took, or undefined after a
 * minute without calm.
 */
export async function settle(instanceUrls: readonly string[]): Promise<number | undefined> {
  const start = performance.now();
  for (let calm = 0; calm < 3;) {
    if (performance.now() - start > 60_000) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const instances = await Promise.all(instanceUrls.map((u) => scrape(u, CALM)));
    const quiet = instances.every(
      (i) =>
        i.get('entitle_degradation_level') === 0 &&
        total([i], 'entitle_admission_queue_depth') === 0 &&
        i.get('entitle_pressure_event_loop_delay_seconds')! < 0.05,
    );
    calm = quiet ? calm + 1 : 0;
  }
  return performance.now() - start;
}
