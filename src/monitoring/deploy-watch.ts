import { EntitleError } from '../errors/index.ts';
import { budget, SLOS, TIERS, type Priority, type Slo } from '../slos/index.ts';
import type { PrometheusClient } from './status.ts';

/** The after-deploy tier's burn rate: the watch breaks where the heightened alert would page. */
export const WATCH_BURN_RATE = TIERS.find((t) => t.afterDeployOnly)!.burnRate;

export interface DeployWatchSettings {
  /** How long to watch, from the first check. */
  readonly forMs: number;
  /** How often to check. */
  readonly everyMs: number;
  /** Consecutive checks a journey must burn on before it counts (a single bad scrape is not a rollback). */
  readonly confirmations: number;
  /** How long Prometheus may go unread before the watch gives up as unwatched. */
  readonly unreachableMs: number;
}

export const DEFAULT_WATCH: DeployWatchSettings = {
  forMs: 3_600_000,
  everyMs: 30_000,
  confirmations: 2,
  unreachableMs: 300_000,
};

/** What broke: in words without personal data, and the priority of the incident it calls for. */
export interface Breach {
  readonly kind: 'journey' | 'replay' | 'alert';
  readonly what: string;
  readonly priority: Priority;
  /** The SLO (journey) it concerns, if any. */
  readonly slo?: string;
}

/** One check: each journey's burn rates, and what broke. */
export interface WatchCheck {
  readonly at: string;
  readonly journeys: readonly { slo: string; burn5m: number | null; burn1h: number | null }[];
  readonly breaches: readonly Breach[];
  /** Set when Prometheus could not be read this time. */
  readonly unreachable?: string;
}

export interface WatchResult {
  readonly verdict: 'held' | 'broke' | 'unwatched';
  readonly startedAt: string;
  readonly endedAt: string;
  readonly checks: number;
  readonly breaches: readonly Breach[];
  /** The most urgent priority among the breaches (P1 first); null when nothing broke. */
  readonly priority: Priority | null;
}

const round = (n: number) => Number(n.toFixed(2));

/**
 * Watches a deploy's first hour in Prometheus: each journey's burn rate over 5 minutes and the
 * hour (from the recording rules the alerts use), decisions replayed differently since the watch
 * began (entitle_replays_total), and any Entitle page that started during it. A journey counts
 * when both its windows burn faster than the after-deploy alert's rate, with enough traffic to
 * mean anything, on `confirmations` checks in a row; a replayed decision that differs or a page
 * counts at once. The watch stops at the first breach: the pipeline then rolls back.
 */
export class DeployWatcher {
  private readonly burning = new Map<string, number>();
  private checks = 0;
  private unreadSince: number | undefined;
  /** Pages already firing at the first check: only a page not among them is the deploy's. */
  private firingAtStart: Set<string> | undefined;

  constructor(
    private readonly prometheus: Pick<PrometheusClient, 'scalar' | 'alerts'>,
    private readonly settings: DeployWatchSettings,
    readonly startedAt: Date,
  ) {}

  private async journey(slo: Slo): Promise<{ burn5m: number | null; burn1h: number | null; breach?: Breach }> {
    const selector = `{slo="${slo.id}"}`;
    const [ratio5m, ratio1h, events] = await Promise.all([
      this.prometheus.scalar(`max(slo:sli_error:ratio_rate5m${selector})`),
      this.prometheus.scalar(`max(slo:sli_error:ratio_rate1h${selector})`),
      this.prometheus.scalar(`max(slo:sli_events:rate5m${selector})`),
    ]);
    // With events but no failure, the bad series may not exist at all: that is a burn of 0.
    const burn = (ratio: number | null) =>
      ratio !== null ? round(ratio / budget(slo)) : events !== null && events > 0 ? 0 : null;
    const [burn5m, burn1h] = [burn(ratio5m), burn(ratio1h)];
    const burningNow =
      burn5m !== null &&
      burn1h !== null &&
      burn5m > WATCH_BURN_RATE &&
      burn1h > WATCH_BURN_RATE &&
      (events ?? 0) > slo.minEventsPerSecond;
    const times = burningNow ? (this.burning.get(slo.id) ?? 0) + 1 : 0;
    this.burning.set(slo.id, times);
    if (times < this.settings.confirmations) return { burn5m, burn1h };
    return {
      burn5m,
      burn1h,
      breach: {
        kind: 'journey',
        slo: slo.id,
        priority: slo.priority.page,
        what: `${slo.journey}: the error budget burned ${burn5m}x too fast over 5 minutes and ${burn1h}x over the hour (the watch allows ${WATCH_BURN_RATE}x), on ${times} checks in a row`,
      },
    };
  }

  private async replays(now: Date): Promise<Breach | undefined> {
    // Over the time watched: increase() also counts across a pod's restart, when its counter starts again.
    const seconds = Math.max(1, Math.ceil((now.getTime() - this.startedAt.getTime()) / 1000));
    const mismatches = await this.prometheus.scalar(
      `sum(increase(entitle_replays_total{result="mismatch"}[${seconds}s]))`,
    );
    if (mismatches === null || mismatches <= 0) return undefined;
    const consistent = SLOS.find((s) => s.id === 'decisions_consistent');
    return {
      kind: 'replay',
      slo: 'decisions_consistent',
      priority: consistent?.priority.page ?? 'P1',
      what: `recorded decisions replayed differently with the new build since the watch began (about ${Math.max(1, Math.round(mismatches))}): entitle replay --sample 200 lists them`,
    };
  }

  private async pages(): Promise<Breach[]> {
    const firing = (await this.prometheus.alerts()).filter((a) => a.severity === 'page');
    const key = (a: { alert: string; tier?: string }) => `${a.alert}|${a.tier ?? ''}`;
    // What was paging before the watch is not the watch's to judge (its own burn rates still are).
    if (!this.firingAtStart) {
      this.firingAtStart = new Set(firing.map(key));
      return [];
    }
    return firing
      .filter((a) => !this.firingAtStart!.has(key(a)))
      .map((a) => ({
        kind: 'alert' as const,
        priority: (['P1', 'P2', 'P3', 'P4'].includes(a.priority) ? a.priority : 'P2') as Priority,
        what: `${a.alert}${a.tier ? ` (${a.tier})` : ''} is paging: ${a.summary}`,
      }));
  }

  /** One check. Prometheus not answering is reported, not thrown, until `unreachableMs` has passed. */
  async check(now = new Date()): Promise<WatchCheck> {
    this.checks += 1;
    try {
      const [journeys, replay, pages] = await Promise.all([
        Promise.all(SLOS.map(async (slo) => ({ slo: slo.id, ...(await this.journey(slo)) }))),
        this.replays(now),
        this.pages(),
      ]);
      this.unreadSince = undefined;
      return {
        at: now.toISOString(),
        journeys: journeys.map(({ slo, burn5m, burn1h }) => ({ slo, burn5m, burn1h })),
        breaches: [...journeys.flatMap((j) => (j.breach ? [j.breach] : [])), ...(replay ? [replay] : []), ...pages],
      };
    } catch (error) {
      if (!(error instanceof EntitleError)) throw error;
      this.unreadSince ??= now.getTime();
      return { at: now.toISOString(), journeys: [], breaches: [], unreachable: error.message };
    }
  }

  /** Whether Prometheus has been unreadable for longer than the watch allows. */
  blind(now = new Date()): boolean {
    return this.unreadSince !== undefined && now.getTime() - this.unreadSince >= this.settings.unreachableMs;
  }

  /**
   * Checks every `everyMs` until `forMs` has passed, a breach, or Prometheus stays unreadable;
   * `onCheck` hears each check (the command prints it).
   */
  async run(
    onCheck: (check: WatchCheck) => void,
    sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
  ): Promise<WatchResult> {
    const ends = this.startedAt.getTime() + this.settings.forMs;
    for (;;) {
      const now = new Date();
      const check = await this.check(now);
      onCheck(check);
      const result = (verdict: WatchResult['verdict'], breaches: readonly Breach[] = []): WatchResult => ({
        verdict,
        startedAt: this.startedAt.toISOString(),
        endedAt: new Date().toISOString(),
        checks: this.checks,
        breaches,
        priority: breaches.length === 0 ? null : [...breaches.map((b) => b.priority)].sort()[0]!,
      });
      if (check.breaches.length > 0) return result('broke', check.breaches);
      if (this.blind(now)) return result('unwatched');
      // Held only if the end was seen: a last check that could not read Prometheus saw nothing.
      if (now.getTime() >= ends) return result(check.unreachable ? 'unwatched' : 'held');
      await sleep(Math.min(this.settings.everyMs, Math.max(0, ends - Date.now())));
    }
  }
}
