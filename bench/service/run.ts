// npm run bench:service — assessments per second through the whole service (HTTP, auth,
// evaluation, durable commit into the verifiable log's queue) with autocannon at 64 connections,
// against the real `entitle serve` on PostgreSQL (one instance, and two side by side on one
// database) and on the embedded PGlite. 3 measured runs after a warm-up (BENCH_RUNS);
// reports the median of requests/s and of p99 latency. Every response must be a 201. The anchor,
// a bare HTTP server answering the same request (anchor.ts), is measured in the same run, and
// each figure is also given as a share of it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createKey } from '../../src/keys/index.ts';
import { compared, readStats } from '../../src/releases/index.ts';
import { migrate, openDatabase, type Database } from '../../src/store/index.ts';
import { spawnServer, testDatabases, verifyRecord } from '../../src/testing/index.ts';
import { median } from '../median.ts';
import { shadowRelease } from '../shadow-release.ts';

const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const body = await readFile(new URL('../../examples/universal-credit.json', import.meta.url), 'utf8');

/**
 * The load, split evenly over the instances given (the same 64 connections in all): requests/s
 * summed, latencies the worst instance's.
 */
async function load(
  urls: readonly string[],
  key: string,
  seconds: number,
): Promise<{ rps: number; p99: number; p50: number; errors: number }> {
  const results = await Promise.all(
    urls.map((url) =>
      autocannon({
        url: `${url}/v1/assessments`,
        method: 'POST',
        connections: CONNECTIONS / urls.length,
        duration: seconds,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      }),
    ),
  );
  return {
    rps: results.reduce((sum, r) => sum + r.requests.average, 0),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    errors: results.reduce((sum, r) => sum + r.errors + r.timeouts + r.non2xx, 0),
  };
}

async function measure(
  name: string,
  url: string | readonly string[],
  key: string,
): Promise<{ name: string; rps: number; p99: number; p50: number }> {
  const urls = typeof url === 'string' ? [url] : url;
  await load(urls, key, 3); // warm-up
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const run = await load(urls, key, SECONDS);
    if (run.errors > 0) throw new Error(`${name}: ${run.errors} requests did not get a 201`);
    runs.push(run);
    console.error(`${name} run ${i + 1}: ${Math.round(run.rps)} assessments/s, p50 ${run.p50} ms, p99 ${run.p99} ms`);
  }
  return {
    name,
    rps: median(runs.map((r) => r.rps)),
    p99: median(runs.map((r) => r.p99)),
    p50: median(runs.map((r) => r.p50)),
  };
}

async function check(db: Database): Promise<number> {
  const report = await verifyRecord(db);
  if (!report.ok) throw new Error(`the chain does not verify: ${report.problem.message}`);
  return report.verified;
}

const results = [];

// The anchor: the same load against a server that does nothing but parse the body.
{
  const anchor = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./anchor.ts', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(anchor.stdout, 'data')) as [Buffer];
  try {
    results.push(await measure('anchor: bare node:http', `http://127.0.0.1:${line.toString().trim()}`, 'none'));
  } finally {
    anchor.kill('SIGTERM');
    await once(anchor, 'exit');
  }
}

// PostgreSQL: a fresh database on the local server.
{
  const t = await testDatabases.postgres();
  try {
    const { key } = await createKey(t.db, 'bench', ['assessor']);
    const server = await spawnServer({ DATABASE_URL: t.url!, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' });
    try {
      results.push(await measure('PostgreSQL', server.url, key));
      // The same, with a release in shadow comparing every assessment: the cost of shadow
      // evaluation (three more evaluations each, after the answer). The candidate differs from
      // the active version only in its title, so every comparison is identical and it stays.
      const release = await shadowRelease(t.db);
      results.push(await measure('PostgreSQL, a release in shadow at 100%', server.url, key));
      await new Promise((r) => setTimeout(r, 1_500));
      const stats = await readStats(t.db, release);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const dropped = Number(/entitle_release_shadow_dropped_total\{[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
      console.error(
        `shadow: ${compared(stats).toLocaleString('en-GB')} comparisons stored (${stats.unexpected} unexpected, A/A ${stats.aaDifferent} different), ${dropped.toLocaleString('en-GB')} dropped when the queue was full`,
      );
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    console.error(`PostgreSQL: ${await check(t.db)} decisions recorded, chain verified`);
  } finally {
    await t.drop();
  }
}

// Two instances on one PostgreSQL database, on this same machine, against one instance: instances
// append side by side (no row every write locks), so the fleet's write rate grows with instances.
{
  const t = await testDatabases.postgres();
  try {
    const { key } = await createKey(t.db, 'bench', ['assessor']);
    const env = { DATABASE_URL: t.url!, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' };
    const servers = [await spawnServer(env), await spawnServer(env)];
    try {
      // Alternated run by run, so the machine's drift (caches warming, the database growing)
      // falls on both alike; each after its own warm-up.
      const configurations = [
        { name: 'PostgreSQL, 1 instance of 2', urls: [servers[0]!.url] },
        { name: 'PostgreSQL, 2 instances', urls: servers.map((s) => s.url) },
      ];
      for (const c of configurations) await load(c.urls, key, 3);
      const runs: Awaited<ReturnType<typeof load>>[][] = [[], []];
      for (let i = 0; i < RUNS; i++)
        for (const [n, c] of configurations.entries()) {
          const run = await load(c.urls, key, SECONDS);
          if (run.errors > 0) throw new Error(`${c.name}: ${run.errors} requests did not get a 201`);
          runs[n]!.push(run);
          console.error(
            `${c.name} run ${i + 1}: ${Math.round(run.rps)} assessments/s, p50 ${run.p50} ms, p99 ${run.p99} ms`,
          );
        }
      const [one, two] = configurations.map((c, n) => ({
        name: c.name,
        rps: median(runs[n]!.map((r) => r.rps)),
        p99: median(runs[n]!.map((r) => r.p99)),
        p50: median(runs[n]!.map((r) => r.p50)),
      }));
      results.push(one!, two!);
      const ratios = runs[1]!.map((r, i) => r.rps / runs[0]![i]!.rps);
      console.error(
        `2 instances against 1 on the same machine: ${(two!.rps / one!.rps).toFixed(2)} times the decisions (medians); run by run ${ratios.map((r) => r.toFixed(2)).join(', ')}`,
      );
    } finally {
      for (const server of servers) server.child.kill('SIGTERM');
      await Promise.all(servers.map((s) => s.exited));
    }
    console.error(`PostgreSQL, 2 instances: ${await check(t.db)} decisions recorded, the log verified`);
  } finally {
    await t.drop();
  }
}

// PGlite: the embedded database in a temporary directory.
{
  const dir = await mkdtemp(join(tmpdir(), 'entitle-bench-'));
  try {
    let db = await openDatabase({ dataDir: dir });
    await migrate(db);
    const { key } = await createKey(db, 'bench', ['assessor']);
    await db.close();
    const server = await spawnServer({
      ENTITLE_DATA_DIR: dir,
      DATABASE_URL: '',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    });
    try {
      results.push(await measure('PGlite', server.url, key));
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    db = await openDatabase({ dataDir: dir });
    console.error(`PGlite: ${await check(db)} decisions recorded, chain verified`);
    await db.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(`\n${CONNECTIONS} connections, ${RUNS} runs of ${SECONDS}s after a 3s warm-up; medians\n`);
const anchorRps = results[0]!.rps;
console.log('| store | assessments/s | share of anchor | p50 latency | p99 latency |');
console.log('|---|---:|---:|---:|---:|');
for (const r of results) {
  const share = `${Math.round((100 * r.rps) / anchorRps)}%`;
  console.log(`| ${r.name} | ${Math.round(r.rps).toLocaleString('en-GB')} | ${share} | ${r.p50} ms | ${r.p99} ms |`);
}
