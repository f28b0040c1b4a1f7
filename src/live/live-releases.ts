import type { Registry } from 'prom-client';
import { storedBundle } from '../decisions/index.ts';
import { EntitleError } from '../errors/index.ts';
import {
  activeVersions,
  addStats,
  RELEASE_CHANNEL,
  releasesUnderTest,
  resolveActiveRuleSets,
  rollbackIfFailing,
  runScheduledPromotions,
  type ActiveVersion,
  type AutomaticRollback,
  type GateSettings,
  type Release,
} from '../releases/index.ts';
import { ruleSetFromBundle, type RuleSet } from '../rules/index.ts';
import type { Database, Queryable } from '../store/index.ts';
import { follow, type Follower } from './follow.ts';
import { liveMetrics } from './metrics.ts';
import { Routing, underTest, type Route, type RuleRouter, type UnderTest } from './routing.ts';
import { ShadowEvaluator, type ShadowSettings } from './shadow.ts';

/** What the live side needs to report through; the service passes its pino logger. */
export interface LiveLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface LiveSettings {
  readonly gates: GateSettings;
  /** Whether to LISTEN for changes (default true); without it, polling alone propagates them. */
  readonly listen: boolean;
  /** How often to check for a change when no notification came (the fallback; default 250 ms). */
  readonly pollMs: number;
  /** How often comparison counts are stored (default 500 ms). */
  readonly flushMs: number;
  /** How often the gates are judged and scheduled promotions run (default 1 s). */
  readonly watchMs: number;
  readonly shadow: ShadowSettings;
  /**
   * Called once, by the instance that rolled a release back automatically (the incidents module
   * opens an incident). A failure is logged; the rollback stands whatever happens here.
   */
  readonly onAutomaticRollback?: (rollback: AutomaticRollback) => Promise<void>;
}

export const DEFAULT_LIVE_SETTINGS: Omit<LiveSettings, 'gates'> = {
  listen: true,
  pollMs: 250,
  flushMs: 500,
  watchMs: 1_000,
  shadow: { queueLimit: 2_000, samplesPerKind: 20 },
};

/**
 * The live side of releases in one instance of the service: which version decides each
 * application (Routing), the shadow comparisons (ShadowEvaluator), and three loops that keep it
 * true to the database.
 * - Propagation (follow.ts): LISTEN on the release channel switches at once; polling the audit
 *   head every `pollMs` catches any notification lost to a broken connection.
 * - Counting: every `flushMs`, this instance's comparison counts are added to release_stats.
 * - Watching: every `watchMs`, each release under test is judged on everyone's counts and rolled
 *   back if it fails, and scheduled promotions whose time has come are made. Every instance
 *   watches; the release's row lock makes the work happen once.
 */
export class LiveReleases implements RuleRouter {
  readonly routing = new Routing();
  readonly shadow: ShadowEvaluator;
  private readonly compiled = new Map<string, RuleSet>();
  private readonly metrics: ReturnType<typeof liveMetrics>;
  private timers: NodeJS.Timeout[] = [];
  /** Loop work in progress, which stop() waits for before the database closes. */
  private readonly ticks = new Set<Promise<void>>();
  private follower: Follower | undefined;
  private watching = false;
  private stopped = false;
  private readonly served = new Map<string, string>();
  private readonly warnedWaiting = new Set<string>();

  private constructor(
    private readonly db: Database,
    private readonly settings: LiveSettings,
    registry: Registry,
    private readonly log: LiveLog,
  ) {
    this.metrics = liveMetrics(registry);
    const m = this.metrics;
    this.shadow = new ShadowEvaluator(settings.shadow, {
      compared(release, kind, aaSame) {
        m.comparisons.inc({ release: release.id, benefit: release.benefit, kind });
        m.aaChecks.inc({ release: release.id, benefit: release.benefit, result: aaSame ? 'same' : 'different' });
      },
      dropped: (benefit) => m.dropped.inc({ benefit }),
      queueDepth: (depth) => m.queue.set(depth),
    });
  }

  /**
   * Loads what the database says is active and under test, and starts following it (follow.ts).
   * The rule sets on disk seed benefits served for the first time (see resolveActiveRuleSets).
   */
  static async start(
    db: Database,
    onDisk: ReadonlyMap<string, RuleSet>,
    settings: LiveSettings,
    registry: Registry,
    log: LiveLog,
  ): Promise<{ live: LiveReleases; differing: { benefit: string; onDisk: string; active: string }[] }> {
    const live = new LiveReleases(db, settings, registry, log);
    const { ruleSets, differing } = await resolveActiveRuleSets(db, onDisk);
    for (const ruleSet of ruleSets.values()) live.compiled.set(ruleSet.hash, ruleSet);
    live.follower = await follow(
      db,
      RELEASE_CHANNEL,
      { listen: settings.listen, pollMs: settings.pollMs, failed: (error) => live.syncFailed(error) },
      (tx) => live.read(tx),
      (state) => live.load(state),
    );
    live.every(settings.flushMs, () => live.flush());
    live.every(settings.watchMs, () => live.watch());
    return { live, differing };
  }

  get active(): ReadonlyMap<string, RuleSet> {
    return this.routing.active;
  }

  route(benefit: string, applicationId: string): Route | undefined {
    return this.routing.route(benefit, applicationId);
  }

  compareLater(route: Route, input: unknown, applicationId: string): void {
    this.shadow.offer(route, input, applicationId);
  }

  /** Stops the loops and stores the last counts. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await Promise.all(this.ticks);
    await this.follower?.stop();
    await this.shadow.idle();
    await this.flush();
  }

  /** Brings this instance in line with the database; calls made meanwhile run once more after. */
  sync(): Promise<void> {
    return this.follower?.sync() ?? Promise.resolve();
  }

  private every(ms: number, work: () => Promise<void>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running || this.stopped) return;
      running = true;
      const tick = work().finally(() => {
        running = false;
        this.ticks.delete(tick);
      });
      this.ticks.add(tick);
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private syncFailed(error: unknown): void {
    this.log.warn(
      { event: 'release_sync_failed', cause: (error as Error).name },
      'could not read the release state; still serving the versions loaded, and retrying',
    );
  }

  /**
   * What the database says now, read in one snapshot (follow's transaction): a promotion
   * committing between the reads must not pair the new active version with the old release under test.
   */
  private async read(tx: Queryable): Promise<{ active: Map<string, ActiveVersion>; tested: Map<string, Release> }> {
    return {
      active: await activeVersions(tx),
      tested: new Map((await releasesUnderTest(tx)).map((r) => [r.benefit, r])),
    };
  }

  /** Loads what the snapshot names; false when a benefit could not be loaded, so the next poll retries it. */
  private async load({
    active,
    tested,
  }: {
    active: Map<string, ActiveVersion>;
    tested: Map<string, Release>;
  }): Promise<boolean> {
    let failed = false;
    for (const [benefit, version] of active) {
      // Each benefit on its own: one version that cannot be loaded leaves the others following.
      try {
        await this.loadBenefit(benefit, version, tested.get(benefit));
      } catch (error) {
        failed = true;
        this.metrics.reloadFailures.inc({ benefit });
        this.log.error(
          {
            event: 'release_reload_failed',
            benefit,
            active: version.hash,
            candidate: tested.get(benefit)?.rulesetHash,
            code: error instanceof EntitleError ? error.code : (error as Error).name,
          },
          'could not load a rule-set version; this benefit keeps deciding with the version loaded before',
        );
      }
    }
    this.forgetUnused(active, tested);
    // A failed benefit is retried at the next poll: the mark is only taken when all loaded.
    return !failed;
  }

  private async loadBenefit(benefit: string, version: ActiveVersion, release: Release | undefined): Promise<void> {
    const activeRuleSet = await this.ruleSet(version.hash);
    const current = this.routing.get(benefit)?.test;
    let test: UnderTest | undefined;
    if (release) {
      // Compiled comparators are kept while only the share or the canary changes.
      test =
        current && current.release.id === release.id && current.comparator.active === activeRuleSet
          ? { ...current, release }
          : underTest(
              release,
              activeRuleSet,
              ruleSetFromBundle(activeRuleSet.program.bundle, `A/A copy of ${version.hash}`),
              await this.ruleSet(release.rulesetHash),
            );
    }
    this.routing.set(benefit, activeRuleSet, version.releaseId, test);
    this.noteServed(benefit, version.hash, version.changedAt);
    if (current && current.release.id !== test?.release.id) {
      this.metrics.served.remove({ benefit, ruleset: current.release.rulesetHash, role: 'candidate' });
      for (const verdict of ['pass', 'fail', 'inconclusive'])
        this.metrics.verdict.remove({ release: current.release.id, benefit, verdict });
    }
    if (test) this.metrics.served.set({ benefit, ruleset: test.release.rulesetHash, role: 'candidate' }, 1);
  }

  /**
   * Versions stay compiled while they may be needed again at once: each benefit's active version,
   * its candidate, and the version a rollback would return to. Others are dropped, so a long-lived
   * instance does not keep every version it ever served.
   */
  private forgetUnused(active: ReadonlyMap<string, ActiveVersion>, tested: ReadonlyMap<string, Release>): void {
    const keep = new Set<string>();
    for (const version of active.values()) keep.add(version.hash);
    for (const release of tested.values()) keep.add(release.rulesetHash);
    for (const ruleSet of this.routing.active.values()) keep.add(ruleSet.hash);
    for (const [benefit] of active) {
      const test = this.routing.get(benefit)?.test;
      if (test?.release.baselineHash) keep.add(test.release.baselineHash);
    }
    if (this.compiled.size > keep.size + 8) {
      for (const hash of [...this.compiled.keys()])
        if (!keep.has(hash) && this.compiled.size > keep.size + 8) this.compiled.delete(hash);
    }
    this.shadow.forget(new Set([...tested.values()].map((r) => r.id)));
  }

  private noteServed(benefit: string, hash: string, changedAt: string): void {
    const before = this.served.get(benefit);
    if (before === hash) return;
    this.served.set(benefit, hash);
    if (before !== undefined) {
      this.metrics.served.remove({ benefit, ruleset: before, role: 'active' });
      const lagSeconds = Math.max(0, (Date.now() - Date.parse(changedAt)) / 1000);
      this.metrics.switchLag.observe(lagSeconds);
      this.log.info(
        { event: 'ruleset_switched', benefit, from: before, to: hash, lagMs: Math.round(lagSeconds * 1000) },
        'now serving another rule-set version',
      );
    }
    this.metrics.served.set({ benefit, ruleset: hash, role: 'active' }, 1);
  }

  /** A compiled rule set by hash; versions stay compiled, so switching back costs nothing. */
  private async ruleSet(hash: string): Promise<RuleSet> {
    const cached = this.compiled.get(hash);
    if (cached) return cached;
    const bundle = await storedBundle(this.db, hash);
    if (!bundle) throw new Error(`rule-set version ${hash} is not stored`);
    const ruleSet = ruleSetFromBundle(bundle, `stored rule set ${hash}`);
    this.compiled.set(hash, ruleSet);
    return ruleSet;
  }

  private async flush(): Promise<void> {
    const tallies = this.shadow.take();
    if (tallies.length === 0) return;
    try {
      await addStats(this.db, tallies);
    } catch (error) {
      this.shadow.restore(tallies);
      this.log.warn(
        { event: 'release_stats_not_stored', cause: (error as Error).name },
        'comparison counts could not be stored; kept for the next attempt',
      );
    }
  }

  private async watch(): Promise<void> {
    if (this.watching) return;
    this.watching = true;
    try {
      await this.flush();
      for (const benefit of this.routing.active.keys()) {
        const test = this.routing.get(benefit)?.test;
        if (!test) continue;
        const { release } = test;
        const { rolledBack, report, stats } = await rollbackIfFailing(this.db, release.id, this.settings.gates);
        for (const verdict of ['pass', 'fail', 'inconclusive'] as const)
          this.metrics.verdict.set({ release: release.id, benefit, verdict }, report.verdict === verdict ? 1 : 0);
        if (rolledBack) {
          this.metrics.rollbacks.inc({ benefit });
          const firstAt = stats.firstUnexpectedAt;
          const delay = firstAt ? (Date.now() - Date.parse(firstAt)) / 1000 : undefined;
          if (delay !== undefined) this.metrics.rollbackSeconds.observe(delay);
          this.log.error(
            {
              event: 'release_rolled_back_automatically',
              release: release.id,
              benefit,
              reasons: report.reasons,
              compared: report.compared,
              secondsSinceFirstUnexpected: delay,
            },
            'a release failed its gates and was rolled back; the previous version serves every application',
          );
          // Stop serving it here first; the incident follows whether or not this reload worked.
          await this.sync().catch((error: unknown) => this.syncFailed(error));
          await this.settings
            .onAutomaticRollback?.({
              release,
              reasons: report.reasons,
              compared: report.compared,
              firstUnexpectedAt: firstAt ?? null,
            })
            .catch((error: unknown) => {
              this.log.error(
                { event: 'rollback_incident_not_opened', release: release.id, cause: (error as Error).name },
                'the rollback stands, but its incident could not be opened: declare one with "entitle incident declare"',
              );
            });
        }
      }
      const scheduled = await runScheduledPromotions(this.db, this.settings.gates);
      for (const release of scheduled.promoted)
        this.log.info(
          { event: 'release_promoted_on_schedule', release: release.id, benefit: release.benefit },
          'a scheduled release became active at its effective time',
        );
      for (const { release, reason } of scheduled.cancelled) {
        this.metrics.scheduleCancelled.inc({ benefit: release.benefit });
        this.log.error(
          { event: 'release_schedule_cancelled', release: release.id, benefit: release.benefit, reason },
          'a release due to become active at its effective time was refused; the current version still decides',
        );
      }
      for (const release of scheduled.waiting) {
        if (this.warnedWaiting.has(release.id)) continue;
        this.warnedWaiting.add(release.id);
        this.log.warn(
          { event: 'release_schedule_waiting', release: release.id, benefit: release.benefit },
          'a release is due to become active but has too few comparisons for a verdict; it waits',
        );
      }
      this.metrics.scheduleWaiting.reset();
      for (const release of scheduled.waiting) this.metrics.scheduleWaiting.inc({ benefit: release.benefit });
      if (scheduled.promoted.length + scheduled.cancelled.length > 0) await this.sync();
    } catch (error) {
      this.log.warn(
        { event: 'release_watch_failed', cause: (error as Error).name },
        'could not judge the releases under test this time; retrying',
      );
    } finally {
      this.watching = false;
    }
  }
}
