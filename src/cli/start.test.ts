import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot, TEST_LOG_KEY } from '../testing/index.ts';

describe('npm start', { timeout: 90_000 }, () => {
  it('runs the server as the process npm waits on, so a SIGTERM sent to npm stops it cleanly', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'entitle-start-'));
    // Its own process group, as a job in a shell is: the signal goes to npm alone, as `kill %1` sends it.
    const npm = spawn('npm', ['start', '--silent'], {
      cwd: projectRoot,
      env: { ...process.env, PORT: '0', ENTITLE_DATA_DIR: dataDir, ENTITLE_LOG_SIGNING_KEY: TEST_LOG_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    npm.stdout.on('data', (d: Buffer) => (output += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => npm.on('exit', resolve));
    let url: string | undefined;
    try {
      const deadline = Date.now() + 60_000;
      while (!url && Date.now() < deadline && npm.exitCode === null) {
        url = /"address":"(http:\/\/[^"]+)"/.exec(output)?.[1];
        if (!url) await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(url, `the service started:\n${output}`);
      assert.equal((await fetch(`${url}/health`)).status, 200);
      const server = /"pid":(\d+)/.exec(output)?.[1];
      assert.ok(server, 'the service logs its process id');

      npm.kill('SIGTERM');
      assert.equal(await exited, 0, `npm start ended cleanly:\n${output}`);
      assert.match(output, /"event":"signal","signal":"SIGTERM"/, 'the server itself was told to stop');
      assert.throws(() => process.kill(Number(server), 0), 'no server is left running');
      await assert.rejects(fetch(`${url}/health`), 'nothing answers on its port');
    } finally {
      if (npm.exitCode === null) process.kill(-npm.pid!, 'SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
