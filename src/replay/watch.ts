import type { Database } from '../store/index.ts';
import { replayRecord } from './compare.ts';
import type { ReplayRuleSets } from './rule-sets.ts';

/** How far back the watch looks: the decisions of the last day, newest first. */
const LOOK_BACK_MS = 86_400_000;

export interface ReplayWatchHooks {
  /** Each replay: the same as recorded, or made differently by this build. */
  readonly replayed: (result: 'match' | 'mismatch') => void;
  /** Whether the service has capacity to spare for it (degradation drops it first). */
  readonly allowed: () => boolean;
  /** A decision made differently: its id and the paths that differ (never its inputs). */
  readonly mismatch: (decisionId: string, paths: readonly string[]) => void;
}

/**
 * Every instance replays recent decisions in the background, one at a time at a low rate, with
 * the build it runs, and counts them (entitle_replays_total{source="background"}). A canary pod
 * of a new build that decides differently with the same rules shows mismatches on its own
 * series, which the canary analysis reads (decisions_consistent): the rollout is aborted before
 * the build decides for everyone. It walks back from the newest decision and starts again at the
 * newest once it has gone a day back.
 */
export class ReplayWatch {
  private cursor: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly ruleSets: ReplayRuleSets,
    private readonly hooks: ReplayWatchHooks,
  ) {}

  start(everyMs: number): void {
    if (everyMs <= 0) return;
    this.timer = setInterval(() => {
      if (!this.hooks.allowed()) return;
      this.running ??= this.tick()
        .then(() => undefined)
        .catch(() => undefined)
        .finally(() => (this.running = undefined));
    }, everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Replays the next decision back; false when there was none to replay. */
  async tick(): Promise<boolean> {
    const since = new Date(Date.now() - LOOK_BACK_MS).toISOString();
    const { rows } = await this.db.query<{
      id: string;
      ruleset_hash: string;
      inputs: unknown;
      outcome: unknown;
      explanation: string[];
    }>(
      `SELECT id, ruleset_hash, inputs, outcome, explanation FROM decisions
       WHERE inputs IS NOT NULL AND created_at >= $1 AND ($2::uuid IS NULL OR id < $2::uuid)
       ORDER BY id DESC LIMIT 1`,
      [since, this.cursor ?? null],
    );
    const row = rows[0];
    if (!row) {
      this.cursor = undefined;
      return false;
    }
    this.cursor = row.id;
    const ruleSet = await this.ruleSets.byHash(row.ruleset_hash);
    const { differences } = replayRecord(row, ruleSet);
    this.hooks.replayed(differences.length === 0 ? 'match' : 'mismatch');
    if (differences.length > 0)
      this.hooks.mismatch(
        row.id,
        differences.map((d) => d.path),
      );
    return true;
  }
}
