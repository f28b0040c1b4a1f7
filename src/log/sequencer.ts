import { Gauge, type Registry } from 'prom-client';
import type { Database } from '../store/index.ts';
import { pruneCheckpointFiles, writeCheckpointFile } from './files.ts';
import type { LogSettings } from './settings.ts';
import { integrate, latestCheckpoint, LOGS, LogIntegrityError, type LogName, type StoredCheckpoint } from './store.ts';

export interface SequencerEvents {
  /** The stored tree no longer gives its signed root: the record was altered. */
  broken(log: LogName, message: string): void;
  /** A round failed for another reason (the database, the checkpoint directory); retried next round. */
  failed(log: LogName, what: 'integrate' | 'checkpoint-file', error: unknown): void;
}

/**
 * Runs the log's sequencer on a timer in every instance; only one integrates a log at a time (the
 * others find its lock taken and skip the round). Each round places every queued leaf, signs a
 * checkpoint, and writes it outside the database. Metrics say how big each log is, how many leaves
 * wait, and when the newest checkpoint was signed.
 */
export class Sequencer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private writes = 0;
  private readonly size: Gauge<'log'>;
  private readonly queued: Gauge<'log'>;
  private readonly signedAt: Gauge<'log'>;

  constructor(
    private readonly db: Database,
    private readonly settings: LogSettings,
    registry: Registry,
    private readonly events: SequencerEvents,
  ) {
    this.size = new Gauge({
      name: 'entitle_log_tree_size',
      help: 'Leaves in the verifiable log as of its newest checkpoint, by log (decisions, audit).',
      labelNames: ['log'],
      registers: [registry],
    });
    this.queued = new Gauge({
      name: 'entitle_log_queued_leaves',
      help: 'Records committed but not yet placed in the verifiable log, by log.',
      labelNames: ['log'],
      registers: [registry],
    });
    this.signedAt = new Gauge({
      name: 'entitle_log_checkpoint_timestamp_seconds',
      help: 'When the newest checkpoint of the log was signed (Unix time), by log.',
      labelNames: ['log'],
      registers: [registry],
    });
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.running = this.round().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.timer = setTimeout(loop, this.settings.intervalMs).unref();
      });
    };
    // Background upkeep never keeps a process alive by itself: stop() runs the last round.
    this.timer = setTimeout(loop, 0).unref();
  }

  /** One round over both logs: place what is queued, sign, write the checkpoints out. */
  async round(): Promise<void> {
    for (const log of LOGS) {
      try {
        for (;;) {
          const done = await integrate(this.db, log, this.settings, this.settings.origin);
          if (!done) break;
          await this.keep(done.checkpoint);
          if (done.added < 10_000) break;
        }
        await this.measure(log);
      } catch (error) {
        if (error instanceof LogIntegrityError) this.events.broken(log, error.message);
        else this.events.failed(log, 'integrate', error);
      }
    }
  }

  private async keep(checkpoint: StoredCheckpoint): Promise<void> {
    this.size.set({ log: checkpoint.log }, checkpoint.size);
    this.signedAt.set({ log: checkpoint.log }, Date.parse(checkpoint.madeAt) / 1000);
    const dir = this.settings.checkpointDir;
    if (!dir) return;
    try {
      await writeCheckpointFile(dir, checkpoint);
      if (++this.writes % 200 === 0) await pruneCheckpointFiles(dir, checkpoint.log);
    } catch (error) {
      this.events.failed(checkpoint.log, 'checkpoint-file', error);
    }
  }

  private async measure(log: LogName): Promise<void> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM log_queue WHERE log = $1', [
      log,
    ]);
    this.queued.set({ log }, Number(rows[0]?.n ?? 0));
    const latest = await latestCheckpoint(this.db, log);
    if (latest) {
      this.size.set({ log }, latest.size);
      this.signedAt.set({ log }, Date.parse(latest.madeAt) / 1000);
    }
  }

  /** Stops the timer and waits for a round in progress; one last round places what is queued. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.round();
  }
}
