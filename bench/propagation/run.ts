// Rollback and promotion propagation: three `entitle serve` processes on one PostgreSQL
// database; 20 switches (10 promotions, 10 rollbacks), each timed from the moment the step is
// asked for until the last of the three instances serves the new version. Run twice: with
// LISTEN/NOTIFY (the normal path) and with notifications off (the polling fallback alone).
// The anchor, measured in the same run, is one round trip to an instance's /version: the
// resolution of the measurement itself.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_GATES } from '../../src/releases/index.ts';
import {
  beforeUprating,
  compile,
  spawnServer,
  switchTwice,
  taper,
  testDatabases,
  ucBundle,
  writeRuleSetDir,
  type ServerProcess,
} from '../../src/testing/index.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function measure(notify: boolean): Promise<{ switches: number[]; anchor: number }> {
  const t = await testDatabases.postgres();
  const dir = await mkdtemp(join(tmpdir(), 'entitle-bench-propagation-'));
  const servers: ServerProcess[] = [];
  try {
    const active = compile(beforeUprating(await ucBundle()));
    await writeRuleSetDir(join(dir, 'uk-universal-credit'), beforeUprating(await ucBundle()));
    for (let i = 0; i < 3; i++)
      servers.push(
        await spawnServer(
          { DATABASE_URL: t.url!, LOG_LEVEL: 'warn', ENTITLE_RELEASE_NOTIFY: notify ? 'on' : 'off' },
          [],
          ['--rules', dir],
        ),
      );
    const urls = servers.map((s) => s.url);
    const candidate = compile(taper(await ucBundle(), '56%'));
    const anchors: number[] = [];
    for (let i = 0; i < 50; i++) {
      const start = performance.now();
      await (await fetch(`${urls[i % 3]}/version`)).json();
      anchors.push(performance.now() - start);
    }
    const switches: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { promotion, rollback } = await switchTwice(t.db, urls, candidate.program, active.hash, {
        ...DEFAULT_GATES,
        minSample: 0,
      });
      switches.push(Math.max(...promotion), Math.max(...rollback));
      process.stderr.write('.');
    }
    process.stderr.write('\n');
    return { switches, anchor: median(anchors) };
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.exited));
    await t.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

for (const notify of [true, false]) {
  const { switches, anchor } = await measure(notify);
  const label = notify ? 'LISTEN/NOTIFY with polling' : 'polling alone (notifications off)';
  console.log(
    `${label}: ${switches.length} switches across 3 instances: median ${ms(median(switches))}, worst ${ms(Math.max(...switches))}; anchor /version round trip ${ms(anchor)} (median is ${(median(switches) / anchor).toFixed(1)}x the anchor)`,
  );
}
