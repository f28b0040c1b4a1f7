import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_LOG_KEY } from './log.ts';

const bin = fileURLToPath(new URL('../../bin/entitle.js', import.meta.url));

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal) when the process ends. */
  readonly exited: Promise<number | string | null>;
}

/** A port free on loopback now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether a program is installed here: it runs `--version` and succeeds. */
export function installed(binary: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(binary, ['--version'], { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('exit', (code) => resolve(code === 0));
  });
}

/**
 * Starts the real `entitle serve` as a separate process on a free port (or on `fixedPort`, to replace an instance where a load balancer expects it) and waits until it
 * listens. Its logs go to the test run's log directory, so the log scan covers them too.
 */
export async function spawnServer(
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
  serveArgs: readonly string[] = [],
  fixedPort?: number,
): Promise<ServerProcess> {
  const port = fixedPort ?? (await freePort());
  const child = spawn(process.execPath, [...nodeArgs, bin, 'serve', '--port', String(port), ...serveArgs], {
    env: { ...process.env, LOG_LEVEL: 'info', ENTITLE_LOG_SIGNING_KEY: TEST_LOG_KEY, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logDir = process.env.ENTITLE_TEST_LOG_DIR;
  if (logDir) child.stdout.pipe(createWriteStream(join(logDir, `server-${child.pid}.log`), { flags: 'a' }));
  else child.stdout.resume();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exitCode: number | string | null | undefined;
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? signal;
      resolve(exitCode);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`the server exited (${String(exitCode)}) before it started: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not start within 30 s: ${stderr}`);
    }
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, child, exited };
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
}

export interface LoadResult {
  readonly statuses: Map<number | string, number>;
  /** Decisions the service said it recorded (201). */
  readonly recorded: string[];
  /** Every request's time to its answer (or failure), in milliseconds. */
  readonly latencies: number[];
}

/**
 * Sends assessments from `connections` concurrent loops until `until` settles, counting statuses
 * (or network error codes), timing each request and collecting the id of every decision answered
 * 201. With `timeoutMs`, a request unanswered that long counts as a TimeoutError.
 */
export async function runLoad(
  url: string,
  key: string,
  body: unknown,
  connections: number,
  until: Promise<void>,
  timeoutMs?: number,
): Promise<LoadResult> {
  const statuses = new Map<number | string, number>();
  const recorded: string[] = [];
  const latencies: number[] = [];
  let stopped = false;
  // Stop on `until` however it ends: a failed check in the test must not leave loops running.
  void until.then(
    () => (stopped = true),
    () => (stopped = true),
  );
  const payload = JSON.stringify(body);
  const loop = async () => {
    while (!stopped) {
      const began = performance.now();
      try {
        const response = await fetch(`${url}/v1/assessments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: payload,
          ...(timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
        });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const json = (await response.json()) as { decisionId?: string };
        if (response.status === 201 && json.decisionId) recorded.push(json.decisionId);
      } catch (error) {
        const code =
          (error as { cause?: { code?: string } }).cause?.code ??
          ((error as Error).name === 'TimeoutError' ? 'TimeoutError' : 'network-error');
        statuses.set(code, (statuses.get(code) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 20));
      } finally {
        latencies.push(performance.now() - began);
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  return { statuses, recorded, latencies };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
