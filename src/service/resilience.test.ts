import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { createKey } from '../keys/index.ts';
import { openPostgres } from '../store/index.ts';
import {
  canaryInput,
  runLoad,
  sleep,
  spawnServer,
  testDatabases,
  verifyRecord,
  type TestDatabase,
} from '../testing/index.ts';

/**
 * A TCP proxy in front of PostgreSQL that a test can cut and restore: to the service it is the
 * database going away (every connection dropped, new ones refused) and coming back.
 */
class CuttableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async cut(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server!.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }
}

async function withPostgres(work: (t: TestDatabase & { url: string }) => Promise<void>): Promise<void> {
  const t = await testDatabases.postgres();
  try {
    await work(t as TestDatabase & { url: string });
  } finally {
    await t.drop();
  }
}

async function storedIds(t: TestDatabase): Promise<Set<string>> {
  const { rows } = await t.db.query<{ id: string }>('SELECT id FROM decisions');
  return new Set(rows.map((r) => r.id));
}

describe('resilience of the running service on PostgreSQL', { timeout: 120_000 }, () => {
  it('loses no acknowledged decision when killed with SIGKILL under load, and the chain verifies', async () => {
    await withPostgres(async (t) => {
      const { key } = await createKey(t.db, 'load', ['assessor']);
      const server = await spawnServer({ DATABASE_URL: t.url });
      const load = runLoad(
        server.url,
        key,
        canaryInput,
        32,
        sleep(1_500).then(() => void server.child.kill('SIGKILL')),
      );
      const result = await load;
      await server.exited;
      assert.ok(result.recorded.length > 50, `expected load before the kill, got ${result.recorded.length} decisions`);
      const stored = await storedIds(t);
      const lost = result.recorded.filter((id) => !stored.has(id));
      assert.deepEqual(lost, [], `${lost.length} acknowledged decisions are missing`);
      const report = await verifyRecord(t.db);
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.ok(report.verified >= result.recorded.length);
    });
  });

  it('answers 503 (never 500) while the database is gone, and recovers without a restart', async () => {
    await withPostgres(async (t) => {
      const { key } = await createKey(t.db, 'load', ['assessor']);
      const target = new URL(t.url);
      const proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
      await proxy.start();
      const viaProxy = new URL(t.url);
      viaProxy.port = String(proxy.port);
      const server = await spawnServer({ DATABASE_URL: viaProxy.toString() });
      try {
        const stop = (async () => {
          await sleep(800);
          await proxy.cut();
          await sleep(2_500);
          assert.equal((await fetch(`${server.url}/ready`)).status, 503, 'not ready while the database is gone');
          await proxy.start();
          await sleep(3_000);
        })();
        const result = await runLoad(server.url, key, canaryInput, 8, stop);
        await stop;
        const seen = JSON.stringify([...result.statuses]);
        assert.equal(result.statuses.get(500) ?? 0, 0, `500s: ${seen}`);
        assert.ok((result.statuses.get(503) ?? 0) > 0, `expected 503s during the outage: ${seen}`);
        // Recovered without a restart: the same process records decisions again.
        const after = await fetch(`${server.url}/v1/assessments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(canaryInput),
        });
        assert.equal(after.status, 201);
        assert.equal((await fetch(`${server.url}/ready`)).status, 200);
        const stored = await storedIds(t);
        assert.deepEqual(
          result.recorded.filter((id) => !stored.has(id)),
          [],
        );
        assert.equal((await verifyRecord(t.db)).ok, true);
      } finally {
        server.child.kill('SIGKILL');
        await server.exited;
        await proxy.cut().catch(() => undefined);
      }
    });
  });

  it('on SIGTERM finishes what it accepted, loses nothing, and exits 0', async () => {
    await withPostgres(async (t) => {
      const { key } = await createKey(t.db, 'load', ['assessor']);
      const server = await spawnServer({ DATABASE_URL: t.url });
      const result = await runLoad(
        server.url,
        key,
        canaryInput,
        16,
        sleep(1_000)
          .then(() => void server.child.kill('SIGTERM'))
          .then(() => sleep(1_500)),
      );
      assert.equal(await server.exited, 0);
      assert.equal(result.statuses.get(500) ?? 0, 0);
      // No accepted request is lost: every decision the server recorded reached its client as a
      // 201, and every 201 is recorded. (A request sent on a keep-alive connection at the moment
      // the server closes it is reset before the server reads it: not accepted, so not lost.)
      const stored = await storedIds(t);
      assert.deepEqual(
        result.recorded.filter((id) => !stored.has(id)),
        [],
      );
      assert.equal(
        stored.size,
        result.recorded.length,
        `recorded ${stored.size} decisions but acknowledged ${result.recorded.length}: ${JSON.stringify([...result.statuses])}`,
      );
      assert.equal((await verifyRecord(t.db)).ok, true);
    });
  });

  it('starts two instances at once on a new database: one migrates, both serve', async () => {
    const t = await testDatabases.postgres();
    try {
      // A database never migrated: both instances race to migrate it.
      const fresh = new URL(t.url!);
      const name = `${fresh.pathname.slice(1)}_fresh`;
      await t.db.query(`CREATE DATABASE ${name}`);
      fresh.pathname = `/${name}`;
      const [a, b] = await Promise.all([
        spawnServer({ DATABASE_URL: fresh.toString() }),
        spawnServer({ DATABASE_URL: fresh.toString() }),
      ]);
      try {
        assert.equal((await fetch(`${a.url}/ready`)).status, 200);
        assert.equal((await fetch(`${b.url}/ready`)).status, 200);
      } finally {
        a.child.kill('SIGTERM');
        b.child.kill('SIGTERM');
        await Promise.all([a.exited, b.exited]);
        const admin = openPostgres({ connectionString: t.url!, maxConnections: 1 });
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.close();
      }
    } finally {
      await t.drop();
    }
  });
});
