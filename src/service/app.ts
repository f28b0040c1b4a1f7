import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { Registry } from 'prom-client';
import { Admission, DEFAULT_CAPACITY, Degradation, type CapacitySettings } from '../capacity/index.ts';
import { DecisionWriter } from '../decisions/index.ts';
import { LiveFlags, seedFlags, type FlagSettings } from '../flags/index.ts';
import { buildApp, createServiceMetrics, type ServiceContext } from '../http/index.ts';
import { failureMetrics, FailureRecorder } from '../incidents/index.ts';
import { KeyVerifier, type Role } from '../keys/index.ts';
import { fixedRouter, type RuleRouter } from '../live/index.ts';
import type { GateSettings } from '../releases/index.ts';
import type { RuleSet } from '../rules/index.ts';
import { migrationsCurrent, type Database, type FaultSwitch } from '../store/index.ts';
import { registerWeb } from '../web/index.ts';
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
  readonly logLevel?: string;
  /** Where logs go (default standard output); tests capture them here. */
  readonly logStream?: DestinationStream;
  /** The flags this instance follows; when absent they are seeded and followed here. */
  readonly flags?: LiveFlags;
  readonly flagSettings?: FlagSettings;
  /** Admission control and degradation settings (default DEFAULT_CAPACITY). */
  readonly capacity?: CapacitySettings;
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
  const context: ServiceContext = {
    db,
    rules,
    ruleSets: rules.active,
    writer: new DecisionWriter(db, metrics.writer),
    keys: new KeyVerifier(db),
    metrics,
    registry,
    migrationsCurrent: () => migrationsCurrent(db),
    failures,
    state: { shuttingDown: false, closing: false },
    flags,
    capacity: { admission, degradation },
  };
  const app = await buildApp({
    context,
    pages: (web, pageContext) => registerWeb(web, pageContext),
    gates: settings.gates,
    faults: settings.faults,
    rateLimits: settings.rateLimits,
    bodyLimitBytes: settings.bodyLimitBytes,
    logLevel: settings.logLevel,
    logStream: settings.logStream,
  });
  attach(app.log);
  degradation.start();
  // Failed assessments are written once the database answers; the last of them as the app closes.
  failures.start();
  app.addHook('onClose', async () => {
    degradation.stop();
    await ownFlags?.stop();
  });
  app.addHook('onClose', () => failures.stop());
  return { app, context };
}
