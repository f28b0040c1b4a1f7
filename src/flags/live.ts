import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  NOOP_PROVIDER,
  OpenFeature,
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderStatus,
  type Client,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { follow, type Follower } from '../live/index.ts';
import type { Database } from '../store/index.ts';
import { DECLARED_FLAGS, evaluateFlag, type Flag } from './model.ts';
import { FLAG_CHANNEL, listFlags } from './repository.ts';

export interface FlagLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface FlagSettings {
  /** LISTEN for changes (default true); polling alone also propagates them, within pollMs. */
  readonly listen: boolean;
  /** How often the audit head is checked when no notification came (default 250 ms). */
  readonly pollMs: number;
}

export const DEFAULT_FLAG_SETTINGS: FlagSettings = { listen: true, pollMs: 250 };

/**
 * The OpenFeature provider over this instance's copy of the flags. It answers from memory, so an
 * evaluation never waits for the database; LiveFlags replaces the copy when a change is committed
 * and the provider tells OpenFeature the configuration changed.
 */
export class DatabaseFlagProvider implements Provider {
  readonly metadata = { name: 'entitle-database' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();

  constructor(private readonly flags: () => ReadonlyMap<string, Flag>) {}

  // The interface is asynchronous; these answer from memory, so they return settled promises.
  resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    const flag = this.flags().get(flagKey);
    if (!flag)
      return Promise.resolve({
        value: defaultValue,
        reason: 'ERROR',
        errorCode: ErrorCode.FLAG_NOT_FOUND,
        errorMessage: `no flag "${flagKey}"`,
      });
    const { value, reason } = evaluateFlag(flag, context.targetingKey);
    return Promise.resolve({
      value,
      reason,
      variant: value ? 'on' : 'off',
      flagMetadata: { kind: flag.kind, owner: flag.owner },
    });
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.mismatch(flagKey, defaultValue));
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.mismatch(flagKey, defaultValue));
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.mismatch(flagKey, defaultValue));
  }

  private mismatch<T>(flagKey: string, defaultValue: T): ResolutionDetails<T> {
    return {
      value: defaultValue,
      reason: 'ERROR',
      errorCode: ErrorCode.TYPE_MISMATCH,
      errorMessage: `Entitle's flags are boolean; "${flagKey}" was read as another type`,
    };
  }
}

function flagMetrics(registry: Registry) {
  return {
    enabled: new Gauge({
      name: 'entitle_flag_enabled',
      help: "Whether each feature flag is on (1) or off (0) in this instance's copy.",
      labelNames: ['flag'] as const,
      registers: [registry],
    }),
    rollout: new Gauge({
      name: 'entitle_flag_rollout_ratio',
      help: 'The share of applications each feature flag is rolled out to (0 to 1), when on.',
      labelNames: ['flag'] as const,
      registers: [registry],
    }),
    switchLag: new Histogram({
      name: 'entitle_flag_switch_seconds',
      help: 'Time from a flag change being committed to this instance applying it.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    syncFailures: new Counter({
      name: 'entitle_flag_sync_failures_total',
      help: 'Times this instance could not read the flags; it keeps the values it had.',
      registers: [registry],
    }),
  };
}

/**
 * The flags as this instance sees them, kept current the way rule releases are (src/live's follow
 * loop): LISTEN on the flag channel applies a change at once; polling the audit head every
 * `pollMs` catches a notification lost to a broken connection (every change is an audit event). Reads go
 * through OpenFeature (`client`); `isOn` answers the all-or-nothing flags from the same
 * evaluation, cached, for code on the hot path that cannot wait for a promise.
 */
export class LiveFlags {
  readonly client: Client;
  private snapshot = new Map<string, Flag>();
  private readonly switches = new Map<string, boolean>();
  private readonly provider: DatabaseFlagProvider;
  private readonly metrics: ReturnType<typeof flagMetrics>;
  private readonly listeners = new Set<(changed: readonly Flag[]) => void>();
  private readonly domain = `entitle-${randomUUID()}`;
  private follower: Follower | undefined;

  private constructor(
    registry: Registry,
    private readonly log: FlagLog,
  ) {
    this.metrics = flagMetrics(registry);
    this.provider = new DatabaseFlagProvider(() => this.snapshot);
    this.client = OpenFeature.getClient(this.domain);
  }

  static async start(
    db: Database,
    registry: Registry,
    log: FlagLog,
    settings: FlagSettings = DEFAULT_FLAG_SETTINGS,
  ): Promise<LiveFlags> {
    const live = new LiveFlags(registry, log);
    live.follower = await follow(
      db,
      FLAG_CHANNEL,
      { ...settings, failed: (error) => live.syncFailed(error) },
      listFlags,
      (flags) => live.load(flags),
    );
    try {
      // Each instance (and each test app) has its own OpenFeature domain: one provider per database.
      await OpenFeature.setProviderAndWait(live.domain, live.provider);
      await live.refreshSwitches();
    } catch (error) {
      await live.follower.stop();
      throw error;
    }
    return live;
  }

  /** Every flag, as this instance holds it now. */
  get flags(): readonly Flag[] {
    return [...this.snapshot.values()];
  }

  /** The audit-chain position this copy was read at: equal on two instances, the same flags. */
  get version(): number {
    return this.follower?.mark ?? -1;
  }

  /**
   * An all-or-nothing flag (kill switch, operational) as last evaluated through OpenFeature; for a
   * release flag, whether it is on at all. A flag the database does not hold yet has its declared
   * value.
   */
  isOn(key: string): boolean {
    return (
      this.switches.get(key) ??
      this.snapshot.get(key)?.enabled ??
      DECLARED_FLAGS.find((f) => f.key === key)?.enabled ??
      false
    );
  }

  /** A flag for one application, through OpenFeature: sticky by applicationId for rollouts. */
  async isOnFor(key: string, applicationId: string): Promise<boolean> {
    return this.client.getBooleanValue(key, false, { targetingKey: applicationId });
  }

  onChange(listener: (changed: readonly Flag[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    await this.follower?.stop();
    await OpenFeature.setProviderAndWait(this.domain, NOOP_PROVIDER);
  }

  /** Brings the copy in line with the database; calls made meanwhile run once more after. */
  sync(): Promise<void> {
    return this.follower?.sync() ?? Promise.resolve();
  }

  private syncFailed(error: unknown): void {
    this.metrics.syncFailures.inc();
    this.log.warn(
      { event: 'flag_sync_failed', cause: (error as Error).name },
      'could not read the feature flags; keeping the values loaded, and retrying',
    );
  }

  /** Installs the flags read in one snapshot (follow's transaction). */
  private async load(flags: readonly Flag[]): Promise<void> {
    const before = this.snapshot;
    const changed = flags.filter((flag) => {
      const old = before.get(flag.key);
      return (
        !old ||
        old.enabled !== flag.enabled ||
        old.rolloutBasisPoints !== flag.rolloutBasisPoints ||
        old.owner !== flag.owner ||
        old.expiresOn !== flag.expiresOn
      );
    });
    this.snapshot = new Map(flags.map((flag) => [flag.key, flag]));
    for (const flag of flags) {
      this.metrics.enabled.set({ flag: flag.key }, flag.enabled ? 1 : 0);
      this.metrics.rollout.set({ flag: flag.key }, flag.rolloutBasisPoints / 10_000);
    }
    if (changed.length === 0) return;
    await this.refreshSwitches();
    if (before.size > 0) {
      for (const flag of changed) {
        const lagSeconds = Math.max(0, (Date.now() - Date.parse(flag.updatedAt)) / 1000);
        this.metrics.switchLag.observe(lagSeconds);
        this.log.info(
          {
            event: 'flag_changed',
            flag: flag.key,
            enabled: flag.enabled,
            rolloutBasisPoints: flag.rolloutBasisPoints,
            by: flag.updatedBy,
            lagMs: Math.round(lagSeconds * 1000),
          },
          'a feature flag changed; this instance now follows it',
        );
      }
      this.provider.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: changed.map((f) => f.key) });
    }
    for (const listener of this.listeners) listener(changed);
  }

  private async refreshSwitches(): Promise<void> {
    // Before the provider is registered (the first load) evaluations would return defaults.
    if (this.client.providerStatus !== ProviderStatus.READY) return;
    for (const flag of this.snapshot.values()) {
      if (flag.kind !== 'release')
        this.switches.set(flag.key, await this.client.getBooleanValue(flag.key, flag.enabled));
    }
  }
}
