import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import type { CapacitySettings } from '../capacity/index.ts';
import { pruneIdempotencyKeys } from '../decisions/index.ts';
import { heightenedGauge } from '../deploys/index.ts';
import type { Environment } from '../environments/index.ts';
import { DEFAULT_FLAG_SETTINGS, LiveFlags, recordEnvironment, seedFlags, type FlagSettings } from '../flags/index.ts';
import { IncidentWatch, openRollbackIncident } from '../incidents/index.ts';
import { adoptUnauditedKeys } from '../keys/index.ts';
import { DEFAULT_LIVE_SETTINGS, LiveReleases, type LiveSettings } from '../live/index.ts';
import { Dispatcher, loadEscalationPolicy } from '../notify/index.ts';
import { DEFAULT_GATES } from '../releases/index.ts';
import { logSettingsFrom, type LogSettings } from '../log/index.ts';
import { loadRuleSets } from '../rules/index.ts';
import { describeStore, migrate, openDatabase, withFaults, type Database, type StoreSettings } from '../store/index.ts';
import { secretRing, webSettingsFrom } from '../web/index.ts';
import { assembleApp, type AppSettings } from './app.ts';
import { laterLog } from './later-log.ts';

export interface ServiceConfig {
  readonly store: StoreSettings;
  readonly rulesDir: string;
  readonly host: string;
  readonly port: number;
  /** After SIGTERM, how long to keep serving while load balancers see /ready fail (default 0). */
  readonly shutdownGraceMs: number;
  readonly rateLimits?: AppSettings['rateLimits'];
  /** ENTITLE_TRUST_PROXY: which proxies' X-Forwarded-For gives the client's address (default none). */
  readonly trustProxy?: AppSettings['trustProxy'];
  /** Request, header and idle timeouts (default HTTP_TIMEOUTS). */
  readonly timeouts?: AppSettings['timeouts'];
  readonly logLevel?: string;
  readonly logStream?: AppSettings['logStream'];
  /** How often the service verifies the decisions added to the log (default 10 s). */
  readonly chainCheckMs?: number;
  /** How often it replays a recent decision with its own build (default 0, off; `entitle serve` sets 10 s). */
  readonly replayWatchMs?: number;
  /** The log's signing key and checkpoint directory (default: from ENTITLE_LOG_SIGNING_KEY and the data directory). */
  readonly log?: LogSettings;
  /** Tests only: expose POST /test/faults (admin) to make the database fail on purpose. */
  readonly testFaults?: boolean;
  /** Tests only: wraps the database the service uses (to record the statements it sends). */
  readonly observeDatabase?: (db: Database) => Database;
  /** Gates, polling and shadow settings for releases (defaults: DEFAULT_LIVE_SETTINGS, DEFAULT_GATES). */
  readonly releases?: Partial<LiveSettings>;
  /** The environment this service runs in; production makes every flag change need two people. */
  readonly environment?: Environment;
  /** Flag propagation (default DEFAULT_FLAG_SETTINGS: LISTEN, and polling every 250 ms). */
  readonly flags?: Partial<FlagSettings>;
  /** Admission control and degradation (default DEFAULT_CAPACITY). */
  readonly capacity?: CapacitySettings;
  /** Incident notifications: how often to check for what is due (default 15 s), and the settings read. */
  readonly incidents?: { readonly watchMs?: number; readonly env?: Readonly<Record<string, string | undefined>> };
}

export interface RunningService {
  readonly app: FastifyInstance;
  readonly db: Database;
  readonly live: LiveReleases;
  readonly flags: LiveFlags;
  readonly address: string;
  /** Readiness fails at once; in-flight requests and writes finish; then everything closes. */
  stop(): Promise<void>;
}

/**
 * The one place the service is wired: database, migrations, the live releases and flags, the
 * app and its parts (assembleApp), and the background watches. Each part is created here and
 * passed to the next; nothing is global.
 */
export async function startService(config: ServiceConfig): Promise<RunningService> {
  const opened = await openDatabase(config.store);
  const faults = config.testFaults ? withFaults(opened) : undefined;
  const db = config.observeDatabase ? config.observeDatabase(faults?.db ?? opened) : (faults?.db ?? opened);
  let started: LiveReleases | undefined;
  let flags: LiveFlags | undefined;
  try {
    const migrated = await migrate(db);
    const environmentName = config.environment ?? 'development';
    const log =
      config.log ??
      (await logSettingsFrom(config.store, config.incidents?.env ?? process.env, {
        allowLocalKey: environmentName !== 'production' && environmentName !== 'staging',
      }));
    const registry = new Registry();
    // The app's logger exists only once the app does; the live releases log through it.
    const { log: forward, attach } = laterLog();
    const env = config.incidents?.env ?? process.env;
    const dispatcher = Dispatcher.fromEnvironment(await loadEscalationPolicy(env), env, { registry });
    const settings: LiveSettings = {
      ...DEFAULT_LIVE_SETTINGS,
      gates: DEFAULT_GATES,
      ...config.releases,
      // An automatic rollback opens an incident, once, from the instance that rolled back.
      onAutomaticRollback: async (rollback) => {
        const { incident, created, decisions } = await openRollbackIncident(db, rollback);
        if (created)
          forward.warn(
            {
              event: 'rollback_incident_opened',
              incident: incident.id,
              release: rollback.release.id,
              priority: incident.priority,
              decisions,
            },
            'an incident was opened for the automatic rollback',
          );
      },
    };
    const { live, differing } = await LiveReleases.start(
      db,
      await loadRuleSets(config.rulesDir),
      settings,
      registry,
      forward,
    );
    started = live;
    const ruleSets = live.active;
    await seedFlags(db);
    await adoptUnauditedKeys(db);
    const environment = await recordEnvironment(db, environmentName, 'entitle');
    flags = await LiveFlags.start(db, registry, forward, { ...DEFAULT_FLAG_SETTINGS, ...config.flags });
    const { app, context } = await assembleApp({
      db,
      rules: live,
      registry,
      flags,
      ...(config.capacity ? { capacity: config.capacity } : {}),
      ...(faults ? { faults } : {}),
      ...(config.rateLimits ? { rateLimits: config.rateLimits } : {}),
      ...(config.trustProxy !== undefined ? { trustProxy: config.trustProxy } : {}),
      ...(config.timeouts ? { timeouts: config.timeouts } : {}),
      ...(config.logLevel ? { logLevel: config.logLevel } : {}),
      ...(config.logStream ? { logStream: config.logStream } : {}),
      log,
      ...(config.chainCheckMs ? { chainCheckMs: config.chainCheckMs } : {}),
      ...(config.replayWatchMs ? { replayWatchMs: config.replayWatchMs } : {}),
      web: webSettingsFrom(env),
    });
    attach(app.log);
    // Idempotency keys are kept a day: forgotten in the background, a few every ten minutes.
    const prune = setInterval(() => void pruneIdempotencyKeys(db).catch(() => undefined), 600_000);
    prune.unref();
    for (const warning of dispatcher.warnings) app.log.warn({ event: 'notification_channel_not_configured' }, warning);
    const secrets = secretRing(env.ENTITLE_SESSION_SECRET);
    if (secrets.length === 0 || secrets.some((secret) => Buffer.byteLength(secret) < 32)) {
      app.log.warn(
        { event: 'session_secret_weak' },
        secrets.length > 0
          ? 'ENTITLE_SESSION_SECRET holds a secret shorter than 32 bytes: use long random values'
          : 'ENTITLE_SESSION_SECRET is not set: console sessions end when this instance stops and do not work across instances',
      );
    }
    const incidentWatch = new IncidentWatch(db, dispatcher, app.log, env.ENTITLE_CONSOLE_URL);
    incidentWatch.start(config.incidents?.watchMs ?? 15_000);
    // entitle_deploy_heightened: the 24 hours after this environment's last deploy, for the alerts.
    heightenedGauge(db, environmentName, registry);
    if (faults)
      app.log.warn(
        { event: 'test_faults_enabled' },
        'ENTITLE_TEST_FAULTS is on: POST /test/faults can make this instance fail. Never in production.',
      );
    const address = await app.listen({ host: config.host, port: config.port });
    app.log.info(
      {
        event: 'started',
        address,
        environment,
        store: describeStore(config.store),
        migrationsApplied: migrated.applied,
        ruleSets: [...ruleSets.values()].map((r) => ({ id: r.id, hash: r.hash })),
        log: {
          origin: log.origin,
          verifierKey: log.signer.verifier.text,
          signingKey: log.keySource,
          checkpointDir: log.checkpointDir ?? null,
        },
      },
      'entitle is serving',
    );
    if (!log.checkpointDir)
      app.log.warn(
        { event: 'checkpoints_only_in_database' },
        'ENTITLE_CHECKPOINT_DIR is not set: checkpoints are kept only in the database, where a rewrite could remove them',
      );
    for (const d of differing) {
      app.log.warn(
        { event: 'rules_on_disk_not_active', benefit: d.benefit, onDisk: d.onDisk, active: d.active },
        'the rule set on disk differs from the active version, which is served; release the change with "entitle release create"',
      );
    }
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        context.state.shuttingDown = true;
        app.log.info({ event: 'stopping', graceMs: config.shutdownGraceMs }, 'not ready: finishing in-flight requests');
        if (config.shutdownGraceMs > 0) await new Promise((r) => setTimeout(r, config.shutdownGraceMs));
        context.state.closing = true;
        await app.close();
        clearInterval(prune);
        await context.writer.drain();
        await context.writer.close();
        await incidentWatch.stop();
        await live.stop();
        await flags!.stop();
        await db.close();
      })());
    return { app, db, live, flags, address, stop };
  } catch (error) {
    await started?.stop().catch(() => undefined);
    await flags?.stop().catch(() => undefined);
    await db.close();
    throw error;
  }
}
