import { createKey } from '../keys/index.ts';
import { migrate } from '../store/index.ts';
import { canaryInput } from './app.ts';
import { testDatabases, type TestDatabase } from './databases.ts';
import { FaultProxy } from './fault-proxy.ts';
import { verifyRecord } from './log.ts';
import { sleep, spawnServer } from './processes.ts';

/**
 * The fault scenario shared by the fault suite (src/service/faults.test.ts) and `npm run
 * bench:faults`: the real service on PostgreSQL through a FaultProxy, under steady assessment
 * load, while the proxy refuses, resets, freezes and slows the database's connections. Every
 * answer is kept; afterwards every decision acknowledged (201) is looked for and the record is
 * verified. Targets 127.0.0.1 only and stops by itself.
 */

export interface FaultRunOptions {
  /** ENTITLE_DB_TIMEOUT_MS for the service: statements and transactions give up after it (+1 s). */
  readonly timeoutMs: number;
  /** Clients sending assessments at once. */
  readonly clients: number;
  /** Scales every phase's length (1: about 25 s in all). */
  readonly scale: number;
}

export interface FaultRunResult {
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  /** The slowest answer of the whole run (each phase's is in `phases`). */
  readonly slowestMs: number;
  readonly acknowledged: number;
  readonly found: number;
  /** 503s without Retry-After, 5xx other than 503, transport failures: each is a defect. */
  readonly violations: readonly string[];
  readonly inDoubt: number;
  /** Decisions listed by GET /v1/decisions/unacknowledged at the end. */
  readonly unacknowledged: number;
  /** Milliseconds from the last fault's end to the first decision recorded after it. */
  readonly recoveryMs: number;
  readonly recordVerified: boolean;
  /** Each phase's answers, by the phase their request was sent in. */
  readonly phases: readonly {
    readonly phase: string;
    readonly requests: number;
    readonly byStatus: Record<string, number>;
    readonly slowestMs: number;
    /**
     * Decisions acknowledged whose request was sent and answered within this phase: one sent in
     * its last milliseconds may be decided just after the next phase begins, so byStatus alone
     * cannot say what the fault let through.
     */
    readonly acknowledgedWithin: number;
  }[];
}

type Phase = { name: string; ms: number; apply: (proxy: FaultProxy) => void };

export async function runFaultScenario(options: FaultRunOptions): Promise<FaultRunResult> {
  const database = await testDatabases.postgres({ migrate: false });
  const proxy = await FaultProxy.start({ host: '127.0.0.1', port: Number(new URL(database.url!).port || 5432) });
  let server: Awaited<ReturnType<typeof spawnServer>> | undefined;
  try {
    return await scenario(options, database, proxy, (started) => (server = started));
  } finally {
    // Whatever happened, nothing is left running.
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    await proxy.stop();
    await database.drop();
  }
}

async function scenario(
  options: FaultRunOptions,
  database: TestDatabase,
  proxy: FaultProxy,
  spawned: (server: Awaited<ReturnType<typeof spawnServer>>) => void,
): Promise<FaultRunResult> {
  await migrate(database.db);
  const { key } = await createKey(database.db, 'fault-assessor', ['assessor']);
  const { key: reader } = await createKey(database.db, 'fault-caseworker', ['caseworker']);
  const server = await spawnServer({
    DATABASE_URL: proxy.urlFor(database.url!),
    ENTITLE_DB_TIMEOUT_MS: String(options.timeoutMs),
    ENTITLE_DB_CONNECT_TIMEOUT_MS: String(Math.min(options.timeoutMs, 1_000)),
    ENTITLE_RATE_LIMITS: 'assessor=100000000,caseworker=100000',
  });
  spawned(server);
  const s = options.scale;
  const phases: Phase[] = [
    { name: 'healthy', ms: 2_000 * s, apply: (p) => p.set('pass') },
    { name: 'refused', ms: 3_000 * s, apply: (p) => (p.set('refuse'), p.resetAll()) },
    { name: 'healthy again', ms: 2_000 * s, apply: (p) => p.set('pass') },
    { name: 'reset', ms: 2_000 * s, apply: (p) => (p.resetAll(), p.set('pass')) },
    { name: 'frozen', ms: 5_000 * s, apply: (p) => p.set('freeze') },
    { name: 'thawed', ms: 3_000 * s, apply: (p) => p.set('pass') },
    { name: 'slow (150 ms a packet)', ms: 3_000 * s, apply: (p) => p.set('slow', 150) },
    { name: 'recovered', ms: 4_000 * s, apply: (p) => p.set('pass') },
  ];
  let phase = phases[0]!.name;
  let lastFaultEnded = 0;
  let firstAfterFault = 0;
  const answers: { phase: string; ended: string; status: number; ms: number; decisionId?: string }[] = [];
  const violations: string[] = [];
  const acknowledged = new Set<string>();
  let inDoubt = 0;
  let stop = false;
  let sent = 0;

  const client = async (n: number) => {
    while (!stop) {
      const i = sent++;
      const started = Date.now();
      const body = { ...canaryInput, applicationId: `FAULT-${n}-${i}` };
      const headers: Record<string, string> = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      if (i % 2 === 0) headers['idempotency-key'] = `fault-${n}-${i}`;
      const at = phase;
      try {
        const response = await fetch(`${server.url}/v1/assessments`, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
        const json = (await response.json()) as { decisionId?: string; code?: string };
        const ms = Date.now() - started;
        answers.push({
          phase: at,
          ended: phase,
          status: response.status,
          ms,
          ...(json.decisionId ? { decisionId: json.decisionId } : {}),
        });
        if (response.status === 201) {
          acknowledged.add(json.decisionId!);
          if (lastFaultEnded && !firstAfterFault && started >= lastFaultEnded) firstAfterFault = Date.now();
        } else if (response.status === 503) {
          if (!response.headers.get('retry-after')) violations.push(`503 without Retry-After in ${at}`);
          if (json.code === 'ENTITLE_DECISION_IN_DOUBT') inDoubt++;
          await sleep(50);
        } else violations.push(`${response.status} ${json.code ?? ''} in ${at}`);
      } catch (error) {
        violations.push(`no answer in ${at}: ${(error as Error).name}`);
      }
    }
  };

  const load = Array.from({ length: options.clients }, (_, n) => client(n));
  try {
    for (const [index, next] of phases.entries()) {
      phase = next.name;
      next.apply(proxy);
      if (index === phases.length - 1) lastFaultEnded = Date.now();
      await sleep(next.ms);
    }
  } finally {
    stop = true;
    await Promise.all(load);
    proxy.set('pass');
  }
  // Decisions in doubt are looked for every 5 s once the database answers.
  await sleep(6_000);
  const listed = await fetch(`${server.url}/v1/decisions/unacknowledged?limit=1000`, {
    headers: { authorization: `Bearer ${reader}` },
  }).then(async (r) => ((await r.json()) as { decisions?: unknown[] }).decisions?.length ?? -1);
  server.child.kill('SIGTERM');
  await server.exited;

  const ids = [...acknowledged];
  const { rows } = await database.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM decisions WHERE id = ANY($1::uuid[])',
    [ids],
  );
  const report = await verifyRecord(database.db);

  const count = (list: typeof answers) => {
    const byStatus: Record<string, number> = {};
    for (const a of list) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
    return byStatus;
  };
  return {
    requests: answers.length + violations.filter((v) => v.startsWith('no answer')).length,
    byStatus: count(answers),
    slowestMs: Math.max(0, ...answers.map((a) => a.ms)),
    acknowledged: ids.length,
    found: rows[0]!.n,
    violations,
    inDoubt,
    unacknowledged: listed,
    recoveryMs: firstAfterFault ? firstAfterFault - lastFaultEnded : -1,
    recordVerified: report.ok,
    phases: phases.map((p) => {
      const list = answers.filter((a) => a.phase === p.name);
      return {
        phase: p.name,
        requests: list.length,
        byStatus: count(list),
        slowestMs: Math.max(0, ...list.map((a) => a.ms)),
        acknowledgedWithin: list.filter((a) => a.status === 201 && a.ended === p.name).length,
      };
    }),
  };
}
