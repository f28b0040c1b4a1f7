/**
 * Following the database: what an instance holds in memory (the rule-set versions it serves, the
 * feature flags) kept true to what the database says. LISTEN on the change's channel syncs at
 * once; polling the audit head every `pollMs` catches a notification lost to a broken connection,
 * since every change is an audit event and moves the head. A sync reads one consistent snapshot
 * and installs it; a sync asked for while one runs runs once more after it, so the last change is
 * never missed. Written by hand: it is a loop around LISTEN and a poll.
 */
import { changeMark } from '../audit/index.ts';
import type { Database, Queryable } from '../store/index.ts';

export interface FollowSettings {
  /** Whether to LISTEN for changes; without it, polling alone propagates them within pollMs. */
  readonly listen: boolean;
  /** How often the audit head is checked when no notification came. */
  readonly pollMs: number;
  /** Told of a sync that failed; the instance keeps what it holds and tries again at the next poll. */
  readonly failed: (error: unknown) => void;
}

export interface Follower {
  /** The audit-head position of the last snapshot installed in full; equal on two instances, the same state. */
  readonly mark: number;
  /** Brings the copy in line with the database now. */
  sync(): Promise<void>;
  /** Stops listening and polling, and waits for a sync in progress. */
  stop(): Promise<void>;
}

/**
 * Starts following `channel`: one sync first (a failure there is the caller's), then
 * notifications and polling. `load` reads the snapshot inside a REPEATABLE READ transaction, so a
 * change committing between its reads cannot pair new state with old; `apply` installs it and
 * returns false when it could not install all of it, so the next poll tries again.
 */
export async function follow<T>(
  db: Database,
  channel: string,
  settings: FollowSettings,
  load: (tx: Queryable) => Promise<T>,
  apply: (snapshot: T) => Promise<boolean | void>,
): Promise<Follower> {
  const following = new Following(db, settings, load, apply);
  await following.sync();
  await following.start(channel);
  return following;
}

class Following<T> implements Follower {
  mark = -1;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  private polling: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly settings: FollowSettings,
    private readonly load: (tx: Queryable) => Promise<T>,
    private readonly apply: (snapshot: T) => Promise<boolean | void>,
  ) {}

  async start(channel: string): Promise<void> {
    if (this.settings.listen)
      this.unlisten = await this.db.listen(
        channel,
        () => void this.sync().catch((error: unknown) => this.settings.failed(error)),
      );
    this.timer = setInterval(() => {
      if (!this.stopped) this.polling ??= this.poll().finally(() => (this.polling = undefined));
    }, this.settings.pollMs);
    this.timer.unref();
  }

  sync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.syncAgain = false;
          await this.syncOnce();
        } while (this.syncAgain);
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.polling;
    await this.unlisten?.();
    await this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const { mark, snapshot } = await this.db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      return { mark: await changeMark(tx), snapshot: await this.load(tx) };
    });
    if ((await this.apply(snapshot)) !== false) this.mark = mark;
  }

  private async poll(): Promise<void> {
    try {
      if ((await changeMark(this.db)) !== this.mark) await this.sync();
    } catch (error) {
      this.settings.failed(error);
    }
  }
}
