// The README's walkthrough, run as written: its shell blocks, in order, on the embedded database,
// with `npm start` serving in a "first terminal" while the rest run beside it in a "second", as a
// new user would follow it. A block is run unless the comment before it says why not
// (<!-- walkthrough: not run: REASON -->); <!-- walkthrough: terminal 1 --> marks what runs before
// and as the service, <!-- walkthrough: stopped --> what runs after Ctrl-C.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { projectRoot } from '../testing/index.ts';

interface Block {
  readonly kind: 'terminal 1' | 'terminal 2' | 'stopped' | 'not run';
  readonly reason?: string;
  readonly text: string;
  readonly line: number;
}

/** The README's ```sh blocks, each with the walkthrough marker written before it, if any. */
export function shellBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  let marker: { kind: Block['kind']; reason?: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const found = /^<!-- walkthrough: (terminal 1|stopped|not run: (.+)) -->$/.exec(lines[i]!);
    if (found) {
      marker = found[2] ? { kind: 'not run', reason: found[2] } : { kind: found[1] as Block['kind'] };
      continue;
    }
    if (lines[i] === '```sh') {
      const start = i + 1;
      const body: string[] = [];
      while (lines[++i] !== '```') {
        assert.ok(i < lines.length, `the block at README.md:${start} is not closed`);
        body.push(lines[i]!);
      }
      blocks.push({ kind: marker?.kind ?? 'terminal 2', text: body.join('\n'), line: start, ...marker });
      marker = undefined;
    } else if (lines[i]!.trim() !== '' && !lines[i]!.startsWith('<!--')) marker = undefined;
  }
  return blocks;
}

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a script in bash, stopping at the first command that fails and naming it. */
function bash(script: string, cwd: string, env: NodeJS.ProcessEnv, input = ''): Promise<Ran> {
  const child = spawn(
    'bash',
    ['-c', `set -euo pipefail\ntrap 'echo "README command failed (exit $?): $BASH_COMMAND" >&2' ERR\n${script}`],
    { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('the README', { timeout: 600_000 }, () => {
  it('marks every shell block it does not run with a reason', async () => {
    const blocks = shellBlocks(await readFile(join(projectRoot, 'README.md'), 'utf8'));
    assert.ok(blocks.filter((b) => b.kind === 'terminal 2').length >= 4, 'the walkthrough has its blocks');
    assert.equal(blocks.filter((b) => b.kind === 'terminal 1').length, 1, 'one block starts the service');
    for (const block of blocks.filter((b) => b.kind === 'not run'))
      assert.ok(block.reason && block.reason.length > 10, `README.md:${block.line} says why it is not run`);
  });

  it('walks through as written: the service runs on the embedded database while every command runs beside it', async (context) => {
    assert.ok(await portFree(3000), 'the walkthrough needs port 3000, where the README says npm start serves');
    const blocks = shellBlocks(await readFile(join(projectRoot, 'README.md'), 'utf8'));
    // A folder of its own, as a fresh checkout: the project's files (git's, and new ones not
    // ignored) copied in, npx installing the package from it as npm install does (building it),
    // its dependencies linked; its data, worklists and downloads are written there.
    const dir = await mkdtemp(join(tmpdir(), 'entitle-readme-'));
    const { stdout: listed } = await promisify(execFile)(
      'git',
      ['ls-files', '--cached', '--others', '--exclude-standard', '-z'],
      { cwd: projectRoot, maxBuffer: 16 * 1024 * 1024 },
    );
    for (const file of listed.split('\0').filter(Boolean))
      await cp(join(projectRoot, file), join(dir, file)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error; // listed, but deleted in this working tree
      });
    await symlink(join(projectRoot, 'node_modules'), join(dir, 'node_modules'));
    await mkdir(join(dir, 'config'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      XDG_CONFIG_HOME: join(dir, 'config'),
      npm_config_update_notifier: 'false',
    };
    for (const name of [
      'DATABASE_URL',
      'ENTITLE_DATA_DIR',
      'ENTITLE_URL',
      'ENTITLE_API_KEY',
      'ENTITLE_LOG_SIGNING_KEY',
    ])
      delete env[name];

    const first = blocks.find((b) => b.kind === 'terminal 1')!;
    const [before, after] = first.text.split(/^npm start\b.*$/m);
    assert.ok(after !== undefined, 'the first terminal starts the service with npm start');
    assert.equal(after.trim(), '', 'npm start is the last command of the first terminal');
    const setup = await bash(before!, dir, env);
    assert.equal(setup.code, 0, `README.md:${first.line}: ${setup.stderr}`);
    const key = setup.stdout.trim();
    assert.match(key, /^ent_/, 'the first key is printed, to be copied');

    const npm = spawn('npm', ['start'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let served = '';
    npm.stdout.on('data', (d: Buffer) => (served += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (served += d.toString()));
    const exited = new Promise<number | null>((resolve) => npm.on('exit', resolve));
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const ready = await fetch('http://127.0.0.1:3000/ready').then(
          (r) => r.ok,
          () => false,
        );
        if (ready) break;
        assert.ok(Date.now() < deadline && npm.exitCode === null, `npm start serves on port 3000:\n${served}`);
        await new Promise((r) => setTimeout(r, 250));
      }

      // The second terminal: one shell for every block, so what one sets the next can use; the key
      // copied from the first terminal is what is pasted at the login prompt.
      const second = blocks.filter((b) => b.kind === 'terminal 2');
      const started = Date.now();
      const walk = await bash(second.map((b) => b.text).join('\n'), dir, env, `${key}\n`);
      context.diagnostic(
        `the second terminal's ${second.length} blocks took ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      assert.equal(walk.code, 0, `${walk.stderr}\n${walk.stdout.slice(-4000)}`);
      assert.match(walk.stdout, /^Alex Example \(key me; roles admin/m, 'whoami names the person signed in');
      assert.match(walk.stdout, /the receipt is true/);
      assert.match(walk.stdout, /gates {8}pass/, 'the release passed its gates in shadow');
      assert.match(walk.stdout, /state {8}active/);
      assert.match(walk.stdout, /state {8}rolled-back/);
      assert.match(walk.stdout, /worklist: \S+worklists\/worklist-\S+\.csv/);
      assert.match(walk.stdout, /HEALTHY|DEGRADED/);
    } finally {
      // Ctrl-C in the first terminal: the interrupt goes to its whole process group.
      signal(npm.pid!, 'SIGINT');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]);
      if (code === 'still running') signal(npm.pid!, 'SIGKILL');
      // The service's log joins the others the test run scans for personal data.
      const logDir = process.env.ENTITLE_TEST_LOG_DIR;
      if (logDir) await writeFile(join(logDir, 'readme-walkthrough-server.log'), served);
      assert.ok(
        code === 0 || code === 130 || code === null,
        `npm start stopped on Ctrl-C (${String(code)}):\n${served.slice(-2000)}`,
      );
    }
    try {
      for (const block of blocks.filter((b) => b.kind === 'stopped')) {
        const ran = await bash(block.text, dir, env);
        assert.equal(ran.code, 0, `README.md:${block.line}: ${ran.stderr}\n${ran.stdout}`);
        assert.match(ran.stdout, /the decision log is intact/);
        assert.match(
          ran.stdout,
          /to review: release \S+ by Alex Example: approved by Sam Jones, whose every key Alex Example made/,
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
      await forgetNpxInstall(dir);
    }
  });
});

/** A signal to a process group, as a terminal sends Ctrl-C; nothing if it has ended. */
function signal(group: number, name: NodeJS.Signals): void {
  try {
    process.kill(-group, name);
  } catch {
    // Already gone.
  }
}

/** npx keeps each local package it ran in its cache (~/.npm/_npx/HASH, linking to it): the walkthrough's goes with it. */
async function forgetNpxInstall(dir: string): Promise<void> {
  const cache = join(process.env.npm_config_cache ?? join(homedir(), '.npm'), '_npx');
  for (const entry of await readdir(cache).catch(() => [] as string[])) {
    const manifest = await readFile(join(cache, entry, 'package.json'), 'utf8').catch(() => '');
    if (manifest.includes(dir.split('/').pop()!)) await rm(join(cache, entry), { recursive: true, force: true });
  }
}
