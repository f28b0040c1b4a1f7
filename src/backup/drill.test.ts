import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createKey } from '../keys/index.ts';
import { openCheckpoint } from '../log/index.ts';
import {
  canaryInput,
  runEntitle,
  sleep,
  spawnServer,
  TEST_VERIFIER,
  testDatabases,
  type ServerProcess,
} from '../testing/index.ts';

async function assess(server: ServerProcess, key: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const response = await fetch(`${server.url}/v1/assessments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...canaryInput, applicationId: `DRILL-${Date.now()}-${i}` }),
    });
    assert.equal(response.status, 201, await response.text());
  }
}

/** Waits until the checkpoint written outside the database holds `size` decisions. */
async function checkpointOf(dir: string, size: number): Promise<string> {
  const file = join(dir, 'decisions', 'latest');
  for (let tries = 0; tries < 100; tries++) {
    const note = await readFile(file, 'utf8').catch(() => undefined);
    if (note && openCheckpoint(note, TEST_VERIFIER).size === size) return file;
    await sleep(100);
  }
  throw new Error(`no checkpoint of ${size} decisions was written to ${dir}`);
}

/**
 * The drill: decisions are made, a backup is taken while the service runs, more decisions are
 * made, the database is lost. The backup restores into an empty database, and the checkpoints
 * kept outside it prove what came back and name, by leaf, every decision made after the backup.
 */
describe('backup and restore drill', { timeout: 180_000 }, () => {
  it('on PostgreSQL: backs up while serving, restores into an empty database, and names the decisions lost', async () => {
    const work = await mkdtemp(join(tmpdir(), 'entitle-drill-'));
    const t = await testDatabases.postgres();
    const empty = await testDatabases.postgres({ migrate: false });
    const checkpoints = join(work, 'checkpoints');
    try {
      const { key } = await createKey(t.db, 'drill', ['assessor']);
      const server = await spawnServer({
        DATABASE_URL: t.url!,
        ENTITLE_CHECKPOINT_DIR: checkpoints,
        ENTITLE_LOG_INTERVAL_MS: '100',
      });
      const backup = join(work, 'entitle.backup.gz');
      const kept = join(work, 'at-backup.checkpoint');
      try {
        await assess(server, key, 5);
        await copyFile(await checkpointOf(checkpoints, 5), kept);
        const taken = await runEntitle(['backup', '--out', backup], { DATABASE_URL: t.url! });
        assert.equal(taken.code, 0, taken.stderr);
        assert.match(taken.stdout, /the decision log held 5 leaves at its newest checkpoint/);
        assert.equal((await stat(backup)).mode & 0o777, 0o600);
        await assess(server, key, 3);
        await checkpointOf(checkpoints, 8);
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
      }

      const env = { DATABASE_URL: empty.url!, ENTITLE_CHECKPOINT_DIR: checkpoints };
      const restored = await runEntitle(['restore', '--from', backup], env);
      assert.equal(restored.code, 1, restored.stdout + restored.stderr);
      assert.match(restored.stdout, /restored \d+ rows from the backup taken at/);
      assert.match(restored.stderr, /decisions missing from the backup: leaves 5 to 7/);
      const againstBackup = await runEntitle(['audit', 'verify', '--checkpoint', kept], env);
      assert.equal(againstBackup.code, 0, againstBackup.stderr);
      assert.match(againstBackup.stdout, /verified 5 decisions against \d+ signed checkpoints/);
      const againstLatest = await runEntitle(
        ['audit', 'verify', '--checkpoint', join(checkpoints, 'decisions', 'latest')],
        env,
      );
      assert.equal(againstLatest.code, 1);
      assert.match(againstLatest.stderr, /missing leaves: 5 to 7/);
      const twice = await runEntitle(['restore', '--from', backup], env);
      assert.equal(twice.code, 2);
      assert.match(twice.stderr, /the database is not empty/);
    } finally {
      await empty.drop();
      await t.drop();
      await rm(work, { recursive: true, force: true });
    }
  });

  it('on the embedded database: backs up through the running service, restores into a new data directory', async () => {
    const work = await mkdtemp(join(tmpdir(), 'entitle-drill-'));
    const data = join(work, 'data');
    const checkpoints = join(work, 'checkpoints');
    try {
      const base = { DATABASE_URL: '', ENTITLE_DATA_DIR: data };
      const admin = (await runEntitle(['keys', 'create', '--name', 'ops', '--roles', 'admin'], base)).stdout.trim();
      const server = await spawnServer({
        ...base,
        ENTITLE_CHECKPOINT_DIR: checkpoints,
        ENTITLE_LOG_INTERVAL_MS: '100',
      });
      const backup = join(work, 'entitle.backup.gz');
      try {
        await assess(server, admin, 4);
        await checkpointOf(checkpoints, 4);
        const refused = await runEntitle(['backup', '--out', backup], base);
        assert.equal(refused.code, 5, 'the running service holds the embedded database');
        const taken = await runEntitle(['backup', '--out', backup, '--url', server.url], {
          ...base,
          ENTITLE_API_KEY: admin,
        });
        assert.equal(taken.code, 0, taken.stderr);
        assert.match(taken.stdout, /the decision log held 4 leaves/);
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
      }
      const restored = await runEntitle(['restore', '--from', backup], {
        DATABASE_URL: '',
        ENTITLE_DATA_DIR: join(work, 'restored'),
        ENTITLE_CHECKPOINT_DIR: checkpoints,
      });
      assert.equal(restored.code, 0, restored.stdout + restored.stderr);
      assert.match(
        restored.stdout,
        /the restored record verifies: 4 decisions against \d+ signed checkpoints, none missing/,
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
