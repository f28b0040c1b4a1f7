import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { Gauge, Registry } from 'prom-client';
import { Admission, DEFAULT_CAPACITY, Degradation, type CapacitySettings } from '../capacity/index.ts';
import { ChainWatch, DecisionWriter } from '../decisions/index.ts';
import { ReplayRuleSets, ReplayWatch } from '../replay/index.ts';
import { LiveFlags, seedFlags, type FlagSettings } from '../flags/index.ts';
import { buildApp, createServiceMetrics, type AppOptions, type ServiceContext } from '../http/index.ts';
import { failureMetrics, FailureRecorder } from '../incidents/index.ts';
import { KeyVerifier, type Role } from '../keys/index.ts';
import { fixedRouter, type RuleRouter } from '../live/index.ts';
import { generateSignerKey, DEFAULT_ORIGIN, logKeysOf, Sequencer, type LogSettings } from '../log/index.ts';
import type { GateSettings } from '../releases/index.ts';
import type { RuleSet } from '../rules/index.ts';
import { migrationsCurrent, type Database, type FaultSwitch } from '../store/index.ts';
import { registerWeb, webSettingsFrom, type WebSettings } from '../web/index.ts';
import { laterLog } from './later-log.ts';

export interface AppSettings {
  readonly db: Database;
  /** Rule sets in service, by benefit: fixed ones, or the live releases that say which decides. */
  readonly rules: ReadonlyMap<string, RuleSet> | RuleRouter;
  /** Release gates for promotion through the API (default: from ENTITLE_RELEASE_* settings). */
  readonly gates?: GateSettings;
  /** Tests only: the switch behind POST /test/faults. */
  readonly faults?: FaultSwitch;
  /** The metrics registry, when other parts (the live releases) register on it too. */
  readonly registry?: Registry;
  /** Requests a minute per key, by role (a key gets the highest of its roles'). */
  readonly rateLimits?: Partial<Record<Role, number>>;
  readonly bodyLimitBytes?: number;
  /** Which proxies to believe for the client's address (ENTITLE_TRUST_PROXY; see buildApp). */
  readonly trustProxy?: AppOptions['trustProxy'];
  /** Request, header and idle timeouts (default HTTP_TIMEOUTS). */
  readonly timeouts?: AppOptions['timeouts'];
  readonly logLevel?: string;
  /** Where logs go (default standard output); tests capture them here. */
  readonly logStream?: DestinationStream;
  /** The flags this instance follows; when absent they are seeded and followed here. */
  readonly flags?: LiveFlags;
  readonly flagSettings?: FlagSettings;
  /** Admission control and degradation settings (default DEFAULT_CAPACITY). */
  readonly capacity?: CapacitySettings;
  /** The log's signing key, origin and checkpoint directory (default: a key for this process only). */
  readonly log?: LogSettings;
  /** How often this instance verifies what was added to the decision log (default 10 s). */
  readonly chainCheckMs?: number;
  /**
   * How often this instance replays a recent decision with its own build (ENTITLE_REPLAY_WATCH_SECONDS;
   * default 0, off: the service sets 10 s).
   */
  readonly replayWatchMs?: number;
  /** The pages' settings: Prometheus, the session secrets and idle timeout (default: from the environment). */
  readonly web?: WebSettings;
}

/** Log settings for an app given none (tests): a key that dies with the process, no directory. */
function ephemeralLog(): LogSettings {
  return {
    ...logKeysOf([generateSignerKey(DEFAULT_ORIGIN)]),
    origin: DEFAULT_ORIGIN,
    checkpointDir: undefined,
    intervalMs: 200,
    keySource: 'a key generated for this process only',
  };
}

/**
 * The HTTP app and every long-lived object its routes use, built here and nowhere else: the
 * metrics, the decision writer, the key verifier, the failure recorder, admission control and
 * degradation (started now, stopped when the app closes), and the flags unless they are given.
 * The API (src/http) and the pages (src/web) are handed the one context. `startService` uses it,
 * and so do tests that run the service in process.
 */
export async function assembleApp(settings: AppSettings): Promise<{ app: FastifyInstance; context: ServiceContext }> {
  const { db } = settings;
  const registry = settings.registry ?? new Registry();
  const metrics = createServiceMetrics(registry, () => db.poolStats());
  const rules = settings.rules instanceof Map ? fixedRouter(settings.rules) : (settings.rules as RuleRouter);
  // The app's logger does not exist yet; flag and degradation events are forwarded to it.
  const { log: forward, attach } = laterLog();
  let ownFlags: LiveFlags | undefined;
  if (!settings.flags) {
    await seedFlags(db);
    ownFlags = await LiveFlags.start(db, registry, forward, settings.flagSettings);
  }
  const flags = settings.flags ?? ownFlags!;
  const capacity = settings.capacity ?? DEFAULT_CAPACITY;
  const admission = new Admission(capacity.admission, registry);
  const degradation = new Degradation(
    capacity.degradation,
    {
      poolWaiting: () => db.poolStats().waiting,
      queueDepth: () => admission.queued,
      automatic: () => flags.isOn('automatic-degradation'),
      flagOn: (step) => flags.isOn(step),
    },
    registry,
    forward,
  );
  const failures = new FailureRecorder(db);
  failureMetrics(registry, failures);
  const log = settings.log ?? ephemeralLog();
  const keys = new KeyVerifier(db);
  const unfollowKeys = await keys.follow();
  const integrity = watchRecord(db, log, registry, forward, settings.chainCheckMs ?? 10_000);
  const context: ServiceContext = {
    db,
    rules,
    ruleSets: rules.active,
    // An assessment waits for its record no longer than any other call to the database may take.
    writer: new DecisionWriter(db, metrics.writer, { deadlineMs: db.deadlineMs }),
    keys,
    metrics,
    registry,
    migrationsCurrent: () => migrationsCurrent(db),
    failures,
    state: { shuttingDown: false, closing: false },
    flags,
    capacity: { admission, degradation },
    log: { verifier: log.signer.verifier, verifiers: log.verifiers, origin: log.origin },
    integrity: { failed: (problem) => integrity.watch.breakWith(problem) },
  };
  const app = await buildApp({
    context,
    pages: (web, pageContext) => registerWeb(web, pageContext, settings.web ?? webSettingsFrom(process.env)),
    gates: settings.gates,
    faults: settings.faults,
    rateLimits: settings.rateLimits,
    bodyLimitBytes: settings.bodyLimitBytes,
    ...(settings.trustProxy !== undefined ? { trustProxy: settings.trustProxy } : {}),
    ...(settings.timeouts ? { timeouts: settings.timeouts } : {}),
    logLevel: settings.logLevel,
    logStream: settings.logStream,
  });
  attach(app.log);
  degradation.start();
  integrity.start();
  const replayWatch = new ReplayWatch(db, new ReplayRuleSets(db, rules.active), {
    replayed: (result) => metrics.replays.inc({ result, source: 'background' }),
    allowed: () => degradation.allows('replay-and-reports'),
    mismatch: (decisionId, paths) =>
      app.log.error(
        { event: 'replay_mismatch', decisionId, paths },
        'this build made a recorded decision differently with the same rules: stop the rollout (docs/deploying.md)',
      ),
  });
  replayWatch.start(settings.replayWatchMs ?? 0);
  app.addHook('onClose', () => replayWatch.stop());
  // Failed assessments are written once the database answers; the last of them as the app closes.
  failures.start();
  app.addHook('onClose', async () => {
    degradation.stop();
    await ownFlags?.stop();
  });
  app.addHook('onClose', () => failures.stop());
  app.addHook('onClose', () => unfollowKeys());
  // After the writer has drained (the service stops it before closing the app): the last round
  // places every decision acknowledged.
  app.addHook('onClose', () => integrity.stop());
  return { app, context };
}

/**
 * The record's own upkeep in every instance: the sequencer, which places queued leaves and signs
 * checkpoints (one instance at a time), and the watch, which rebuilds the tree from the decisions
 * and checks it against the signed checkpoints. Either finding the record altered sets
 * entitle_chain_intact to 0, which pages.
 */
function watchRecord(
  db: Database,
  settings: LogSettings,
  registry: Registry,
  log: ReturnType<typeof laterLog>['log'],
  everyMs: number,
) {
  const intact = new Gauge({
    name: 'entitle_chain_intact',
    help: 'Whether the decision record verified by this instance is intact (1) or altered (0): its decisions give the leaves of the log and the log gives its signed checkpoints. Altered is a P1.',
    registers: [registry],
  });
  const verified = new Gauge({
    name: 'entitle_chain_verified_records',
    help: 'Leaves of the decision log this instance has verified against their decisions and the signed checkpoints since it started.',
    registers: [registry],
  });
  intact.set(1);
  let reported = false;
  const watch = new ChainWatch(db, settings.verifiers, (state) => {
    intact.set(state.intact ? 1 : 0);
    verified.set(state.verified);
    if (!state.intact && !reported) {
      reported = true;
      log.error(
        { event: 'record_integrity_failed', leaf: state.problem?.seq, problem: state.problem?.message },
        'the decision record does not verify: run "entitle audit verify" and follow the record integrity runbook',
      );
    }
  });
  const sequencer = new Sequencer(db, settings, registry, {
    broken: (name, message) => watch.breakWith({ seq: 0, message: `the ${name} log: ${message}` }),
    failed: (name, what, error) =>
      log.warn(
        {
          event: what === 'integrate' ? 'log_sequencing_failed' : 'checkpoint_file_failed',
          log: name,
          kind: (error as Error).name,
        },
        what === 'integrate'
          ? 'queued records could not be placed in the log this round: retrying'
          : 'a checkpoint could not be written to ENTITLE_CHECKPOINT_DIR: retrying with the next',
      ),
  });
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  return {
    watch,
    start() {
      sequencer.start();
      timer = setInterval(() => {
        running ??= watch
          .tick()
          .catch(() => undefined)
          .finally(() => (running = undefined));
      }, everyMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
      await sequencer.stop();
    },
  };
}
