import { within } from './reads.ts';
import type { PublicStatus } from './public-status.ts';

/** The status as last read, and whether the last attempt to read it worked. */
export interface StatusSnapshot {
  /** Null only when the database has never answered since this instance started. */
  readonly status: PublicStatus | null;
  /** False when the last attempt failed: `status` is then the last known one. */
  readonly current: boolean;
  /** When the last attempt was made. */
  readonly checkedAt: string;
}

/**
 * Reads the status at most once per `ttlMs`, however many citizens ask, and keeps the last one
 * that was read: a status page is looked at exactly when things fail, so a database that does
 * not answer must not take the page down with it. A failed read is remembered for `ttlMs` too,
 * so an outage does not make every request wait for the timeout.
 */
export class StatusCache {
  private last: PublicStatus | null = null;
  private current = false;
  private checkedAt = 0;
  private pending: Promise<void> | null = null;

  constructor(
    private readonly read: () => Promise<PublicStatus>,
    private readonly onError: (error: unknown) => void,
    private readonly ttlMs = 5_000,
    private readonly timeoutMs = 2_000,
  ) {}

  async get(): Promise<StatusSnapshot> {
    if (Date.now() - this.checkedAt >= this.ttlMs) {
      this.pending ??= this.refresh().finally(() => {
        this.pending = null;
      });
      await this.pending;
    }
    return { status: this.last, current: this.current, checkedAt: new Date(this.checkedAt).toISOString() };
  }

  private async refresh(): Promise<void> {
    try {
      this.last = await within(this.timeoutMs, this.read());
      this.current = true;
    } catch (error) {
      this.current = false;
      this.onError(error);
    } finally {
      this.checkedAt = Date.now();
    }
  }
}
