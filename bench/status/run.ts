// npm run bench:status — the public status page under load, because citizens look at it exactly
// when things fail, and in numbers. The real `entitle serve` on PostgreSQL with three open
// incidents; autocannon at 64 connections for 10 s, 3 measured runs after a warm-up, medians of
// requests/s and p99. The anchor is /health on the same process, measured in the same run. Then
// the same load on /status while the database is down (the test-only fault switch): every answer
// must still be a 200 with the last known status.
import autocannon from 'autocannon';
import { declareIncident } from '../../src/incidents/index.ts';
import { createKey } from '../../src/keys/index.ts';
import { spawnServer, testDatabases } from '../../src/testing/index.ts';
import { median } from '../median.ts';

const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RUNS = 3;

async function load(url: string, seconds: number): Promise<{ rps: number; p99: number; bad: number }> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    bad: result.errors + result.timeouts + result.non2xx,
  };
}

async function measure(name: string, url: string): Promise<{ rps: number; p99: number }> {
  await load(url, 3);
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const run = await load(url, SECONDS);
    if (run.bad > 0) throw new Error(`${name}: ${run.bad} requests did not get a 200`);
    runs.push(run);
    console.error(`${name} run ${i + 1}: ${Math.round(run.rps)} requests/s, p99 ${run.p99} ms`);
  }
  return { rps: median(runs.map((r) => r.rps)), p99: median(runs.map((r) => r.p99)) };
}

const database = await testDatabases.postgres();
const server = await spawnServer({ DATABASE_URL: database.url!, ENTITLE_TEST_FAULTS: 'on', LOG_LEVEL: 'warn' });
try {
  const admin = (await createKey(database.db, 'bench-admin', ['admin'])).key;
  await declareIncident(database.db, {
    title: 'Assessments failing',
    priority: 'P1',
    actor: 'bench',
    journeys: ['assessment_availability'],
    citizenMessage: 'You may not be able to get a decision about your benefit at the moment.',
  });
  await declareIncident(database.db, {
    title: 'Slow assessments',
    priority: 'P2',
    actor: 'bench',
    journeys: ['assessment_latency'],
    citizenMessage: 'Getting a decision may take longer than usual at the moment.',
  });
  await declareIncident(database.db, { title: 'Report job late', priority: 'P3', actor: 'bench' });
  const page = await (await fetch(`${server.url}/status`)).text();
  if (!page.includes('Not working')) throw new Error('the status page does not show the P1');

  const anchor = await measure('anchor /health', `${server.url}/health`);
  const status = await measure('/status', `${server.url}/status`);
  const fault = (state: 'down' | 'up') =>
    fetch(`${server.url}/test/faults`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ database: state }),
    });
  await fault('down');
  const down = await measure('/status, database down', `${server.url}/status`);
  const stale = await (await fetch(`${server.url}/status`)).text();
  await fault('up');
  if (!stale.includes('Not working')) throw new Error('with the database down, the page lost the last known status');

  const share = (x: number) => `${((x / anchor.rps) * 100).toFixed(0)}%`;
  console.log(`\n| route (64 connections, median of ${RUNS} x ${SECONDS} s) | requests/s | p99 ms | share of anchor |`);
  console.log('|---|---:|---:|---:|');
  console.log(
    `| anchor: /health, same process | ${Math.round(anchor.rps).toLocaleString('en-GB')} | ${anchor.p99} | 100% |`,
  );
  console.log(
    `| /status (3 open incidents) | ${Math.round(status.rps).toLocaleString('en-GB')} | ${status.p99} | ${share(status.rps)} |`,
  );
  console.log(
    `| /status, database down (last known) | ${Math.round(down.rps).toLocaleString('en-GB')} | ${down.p99} | ${share(down.rps)} |`,
  );
} finally {
  server.child.kill('SIGTERM');
  await server.exited;
  await database.drop();
}
