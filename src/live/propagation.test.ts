import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_GATES } from '../releases/index.ts';
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
} from '../testing/index.ts';

describe('propagation across instances', () => {
  it('switches three instances on one PostgreSQL database within 1 s of a promotion and of a rollback', async () => {
    const t = await testDatabases.postgres();
    const dir = await mkdtemp(join(tmpdir(), 'entitle-propagation-'));
    const servers: ServerProcess[] = [];
    try {
      const active = compile(beforeUprating(await ucBundle()));
      await writeRuleSetDir(join(dir, 'uk-universal-credit'), beforeUprating(await ucBundle()));
      for (let i = 0; i < 3; i++) servers.push(await spawnServer({ DATABASE_URL: t.url! }, [], ['--rules', dir]));
      const candidate = compile(taper(await ucBundle(), '56%'));
      const urls = servers.map((s) => s.url);
      for (let round = 0; round < 2; round++) {
        const { promotion, rollback } = await switchTwice(t.db, urls, candidate.program, active.hash, {
          ...DEFAULT_GATES,
          minSample: 0,
        });
        for (const ms of [...promotion, ...rollback])
          assert.ok(ms < 1_000, `an instance took ${Math.round(ms)} ms to switch`);
      }
    } finally {
      for (const s of servers) s.child.kill('SIGTERM');
      await Promise.all(servers.map((s) => s.exited));
      await t.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
