import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, runLoad, sleep, spawnServer, type ServerProcess } from './processes.ts';

const run = promisify(execFile);

/** Debian's nginx (`apt-get install -y nginx`; .ci/run installs it). */
export const NGINX = '/usr/sbin/nginx';

/**
 * A fleet on loopback, as a rolling deploy sees one: several `entitle serve` processes sharing one
 * PostgreSQL database behind nginx (Debian's package). `roll` replaces them one at a time the way
 * Kubernetes does with a Rollout's pods: take the instance out of the load balancer (endpoint
 * removal; nginx reloads gracefully, finishing requests in flight), wait the preStop delay, send
 * SIGTERM (the service finishes its requests and decision writes), start the new version on the
 * same port, wait until /ready answers, and put it back. Test and benchmark support only.
 */

export interface FleetOptions {
  readonly databaseUrl: string;
  readonly instances: number;
  readonly version: string;
  /** The preStop delay: how long an instance keeps serving after leaving the load balancer. */
  readonly drainMs: number;
  /** More settings for every instance (capacity, log level). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Whether nginx keeps client connections open between requests. Off for rolling deploys (see
   * nginxConfig); on for load that reloads nothing, where a new connection per request would
   * measure TCP set-up rather than the service.
   */
  readonly clientKeepAlive?: boolean;
}

interface Instance {
  readonly port: number;
  server: ServerProcess;
  version: string;
  inRotation: boolean;
}

export interface RollStep {
  readonly port: number;
  readonly from: string;
  readonly to: string;
  /** Milliseconds from leaving the load balancer to being back in it with the new version. */
  readonly ms: number;
  readonly exitCode: number | string | null;
}

export class Fleet {
  private constructor(
    private readonly options: FleetOptions,
    private readonly dir: string,
    private readonly instances: Instance[],
    private readonly nginx: ChildProcess,
    readonly url: string,
    private readonly nginxLog: () => string,
  ) {}

  static async start(options: FleetOptions): Promise<Fleet> {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-fleet-'));
    await mkdir(join(dir, 'logs'));
    const instances: Instance[] = [];
    let nginx: ChildProcess | undefined;
    try {
      for (let i = 0; i < options.instances; i++) {
        const port = await freePort();
        instances.push({
          port,
          server: await startInstance(options, port, options.version),
          version: options.version,
          inRotation: true,
        });
      }
      const listen = await freePort();
      await writeFile(join(dir, 'nginx.conf'), nginxConfig(dir, listen, instances, options.clientKeepAlive ?? false));
      // Debian's nginx wants its log directory even when the configuration names others.
      nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs', 'error.log')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      nginx.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      const url = `http://127.0.0.1:${listen}`;
      const deadline = Date.now() + 10_000;
      while (
        !(await fetch(`${url}/health`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (nginx.exitCode !== null || Date.now() > deadline) throw new Error(`nginx did not start: ${log}`);
        await sleep(100);
      }
      return new Fleet(options, dir, instances, nginx, url, () => log);
    } catch (error) {
      nginx?.kill('SIGKILL');
      for (const instance of instances) instance.server.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Each instance's own address, to read its /metrics directly rather than through nginx. */
  get instanceUrls(): string[] {
    return this.instances.map((i) => i.server.url);
  }

  /** The version each instance reports on /version, asked directly (not through nginx). */
  async versions(): Promise<string[]> {
    return Promise.all(
      this.instances.map(
        async (i) =>
          ((await (await fetch(`${i.server.url}/version`)).json()) as { build: { version: string } }).build.version,
      ),
    );
  }

  /** Replaces every instance, one at a time, with `version`. */
  async roll(version: string): Promise<RollStep[]> {
    const steps: RollStep[] = [];
    for (const instance of this.instances) {
      const began = performance.now();
      const from = instance.version;
      instance.inRotation = false;
      await this.reload();
      await sleep(this.options.drainMs);
      instance.server.child.kill('SIGTERM');
      const exitCode = await instance.server.exited;
      instance.server = await startInstance(this.options, instance.port, version);
      instance.version = version;
      await waitReady(instance.server.url);
      instance.inRotation = true;
      await this.reload();
      steps.push({ port: instance.port, from, to: version, ms: performance.now() - began, exitCode });
    }
    return steps;
  }

  private async reload(): Promise<void> {
    await writeFile(
      join(this.dir, 'nginx.conf'),
      nginxConfig(this.dir, Number(new URL(this.url).port), this.instances, this.options.clientKeepAlive ?? false),
    );
    await run(NGINX, [
      '-p',
      this.dir,
      '-c',
      join(this.dir, 'nginx.conf'),
      '-e',
      join(this.dir, 'logs', 'error.log'),
      '-s',
      'reload',
    ]);
    // The master starts workers with the new configuration and lets the old ones finish.
    await sleep(200);
  }

  async stop(): Promise<void> {
    this.nginx.kill('SIGQUIT');
    for (const instance of this.instances) instance.server.child.kill('SIGTERM');
    await Promise.all(this.instances.map((i) => i.server.exited));
    if (this.nginx.exitCode === null) await new Promise((resolve) => this.nginx.once('exit', resolve));
    await rm(this.dir, { recursive: true, force: true });
  }

  get log(): string {
    return this.nginxLog();
  }

  /** nginx's error log so far: why it answered 502 or 504, when it did. */
  async errorLog(): Promise<string> {
    return readFile(join(this.dir, 'logs', 'error.log'), 'utf8').catch(() => '');
  }
}

function startInstance(options: FleetOptions, port: number, version: string): Promise<ServerProcess> {
  return spawnServer(
    {
      DATABASE_URL: options.databaseUrl,
      ENTITLE_BUILD_VERSION: version,
      LOG_LEVEL: 'warn',
      ENTITLE_DB_POOL_SIZE: '8',
      ...options.env,
    },
    [],
    [],
    port,
  );
}

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (
    !(await fetch(`${url}/ready`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) throw new Error('an instance did not become ready within 30 s');
    await sleep(50);
  }
}

/**
 * nginx in front of the fleet. An instance out of rotation is marked `down`. A request whose
 * connection to an instance fails before it was sent is passed to the next one; a POST that
 * reached an instance is never sent twice (nginx's default for non-idempotent methods).
 */
function nginxConfig(
  dir: string,
  listen: number,
  instances: readonly { port: number; inRotation: boolean }[],
  clientKeepAlive: boolean,
): string {
  const servers = instances
    .map((i) => `    server 127.0.0.1:${i.port} max_fails=0${i.inRotation ? '' : ' down'};`)
    .join('\n');
  return `# Written by the rolling deploy test (src/testing/fleet.ts).
daemon off;
worker_processes 1;
worker_rlimit_nofile 16384;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'logs', 'error.log')} warn;
# A surge holds a few thousand client connections, each with one to an instance.
events { worker_connections 8192; }
http {
  access_log off;
  # nginx changes upstreams only by reloading, and a reload closes idle client keep-alive
  # connections, racing a client's next request on them (a reset the client cannot safely retry
  # for a POST). ingress-nginx changes endpoints without reloading, so clients keep their
  # connections there; here each client connection carries one request, so the proof measures
  # the service's drain and not nginx's reload.
  keepalive_timeout ${clientKeepAlive ? '75s' : '0'};
  keepalive_requests 1000000;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  client_body_buffer_size 64k;
  upstream entitle {
${servers}
    keepalive ${clientKeepAlive ? 512 : 32};
  }
  server {
    listen 127.0.0.1:${listen};
    location / {
      proxy_pass http://entitle;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_503;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 1s;
    }
  }
}
`;
}

export interface PhaseResult {
  readonly requests: number;
  readonly seconds: number;
  readonly ok: number;
  /** Requests that did not get a 2xx: connection errors, timeouts and error statuses. */
  readonly failed: number;
  /** What the failures were: connection errors, timeouts, and each status that was not 2xx. */
  readonly failures: Readonly<Record<string, number>>;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly steps: readonly RollStep[];
  /** Milliseconds from the start of the roll until every instance answered with the new version. */
  readonly allServingMs: number;
}

export interface RollingProof {
  /** The anchor: the same load on the same fleet for `baselineMs` with nothing rolling. */
  readonly steady?: Omit<PhaseResult, 'steps' | 'allServingMs'>;
  readonly roll: PhaseResult;
  readonly rollback: PhaseResult;
  /** Assessments answered 2xx in every phase, warm-up included. */
  readonly answered: number;
  /** Decisions in the database: every 2xx answered must be among them, and nothing else. */
  readonly decisionsRecorded: number;
}

/**
 * Constant load (runLoad's loops, each sending the next assessment as soon as the last is
 * answered) until stopped, summarised as counts and latency percentiles.
 */
function constantLoad(url: string, key: string, body: unknown, connections: number) {
  let release!: () => void;
  const until = new Promise<void>((resolve) => (release = resolve));
  const started = performance.now();
  const running = runLoad(url, key, body, connections, until, 10_000);
  return {
    async stop() {
      release();
      const { statuses, latencies } = await running;
      const seconds = (performance.now() - started) / 1000;
      const sorted = [...latencies].sort((a, b) => a - b);
      const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
      const failures: Record<string, number> = {};
      let ok = 0;
      for (const [status, count] of statuses) {
        if (typeof status === 'number' && status >= 200 && status < 300) ok += count;
        else failures[String(status)] = count;
      }
      const failed = Object.values(failures).reduce((x, y) => x + y, 0);
      return {
        requests: sorted.length,
        seconds,
        ok,
        failed,
        failures,
        p50: at(0.5),
        p99: at(0.99),
        max: Math.round(sorted.at(-1) ?? 0),
      };
    },
  };
}

/**
 * The proof the deploy pipeline relies on: under constant load through nginx, roll every instance
 * to a new version, then roll back to the old one the same way, counting every request that fails.
 */
export async function proveRollingDeploy(options: {
  databaseUrl: string;
  key: string;
  body: unknown;
  connections: number;
  drainMs: number;
  steadyMs: number;
  baselineMs?: number;
  countDecisions: () => Promise<number>;
}): Promise<RollingProof> {
  const fleet = await Fleet.start({
    databaseUrl: options.databaseUrl,
    instances: 3,
    version: '1.0.0',
    drainMs: options.drainMs,
  });
  try {
    let steady: RollingProof['steady'];
    let answered = 0;
    if (options.baselineMs) {
      // Warm up first (connections, compiled code), so the anchor is the fleet at its steady state.
      const warm = constantLoad(fleet.url, options.key, options.body, options.connections);
      await sleep(3_000);
      answered += (await warm.stop()).ok;
      const load = constantLoad(fleet.url, options.key, options.body, options.connections);
      await sleep(options.baselineMs);
      steady = await load.stop();
      answered += steady.ok;
    }
    const phase = async (version: string): Promise<PhaseResult> => {
      const load = constantLoad(fleet.url, options.key, options.body, options.connections);
      try {
        await sleep(options.steadyMs);
        const began = performance.now();
        const steps = await fleet.roll(version);
        const versions = await fleet.versions();
        const allServingMs = performance.now() - began;
        if (versions.some((v) => v !== version))
          throw new Error(`after the roll the instances serve ${versions.join(', ')}, not ${version}`);
        await sleep(options.steadyMs);
        return { ...(await load.stop()), steps, allServingMs };
      } finally {
        // A roll that failed must not leave the load running (stop() again is harmless).
        await load.stop();
      }
    };
    const roll = await phase('1.1.0');
    const rollback = await phase('1.0.0');
    answered += roll.ok + rollback.ok;
    return {
      ...(steady ? { steady } : {}),
      roll,
      rollback,
      answered,
      decisionsRecorded: await options.countDecisions(),
    };
  } catch (error) {
    throw new Error(`${(error as Error).message}\nnginx: ${fleet.log}`);
  } finally {
    await fleet.stop();
  }
}
