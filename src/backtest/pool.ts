import { Worker } from 'node:worker_threads';
import { EntitleError, errorRegistry, type ErrorCode } from '../errors/index.ts';
import type { BatchMessage, BatchTally, WorkerSetup } from './tally.ts';

/**
 * Starts a worker thread. Compiled (dist/, as `npm install` builds it), the worker is plain
 * JavaScript; from the sources it registers tsx's loader first, as bin/entitle.js does.
 */
function startWorker(setup: WorkerSetup): Worker {
  if (import.meta.url.endsWith('.js'))
    return new Worker(new URL('./worker.js', import.meta.url), { execArgv: [], workerData: setup });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  // The parent's loader flags are not passed on (execArgv: []): under `node --import tsx` and under
  // bin/entitle.js alike, the worker registers tsx once, itself.
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, execArgv: [], workerData: setup });
}

/** A worker's answer to a batch: its tally, or why it could not make one. */
interface WorkerAnswer {
  readonly seq?: number;
  readonly tally?: BatchTally;
  readonly error?: string;
  readonly code?: string;
}

function isErrorCode(code: string | undefined): code is ErrorCode {
  return code !== undefined && code in errorRegistry;
}

interface Slot {
  readonly worker: Worker;
  busy: number;
  /** Rule-set versions this worker has been sent. */
  readonly sent: Set<string>;
}

/** The worker threads, each taking batches in turn; a worker that fails fails the backtest. */
export class Pool {
  readonly slots: Slot[];
  private readonly waiting = new Map<
    number,
    { resolve: (tally: BatchTally) => void; reject: (error: Error) => void }
  >();
  /** Set once any worker fails: later batches are refused at once rather than sent to it. */
  private broken: Error | undefined;

  constructor(size: number, setup: WorkerSetup) {
    this.slots = Array.from({ length: size }, () => {
      const slot: Slot = { worker: startWorker(setup), busy: 0, sent: new Set() };
      slot.worker.on('message', (message: WorkerAnswer) => this.answer(slot, message));
      slot.worker.on('error', (error) =>
        this.failAll(new EntitleError('ENTITLE_INTERNAL', `a backtest worker failed: ${error.name}: ${error.message}`)),
      );
      slot.worker.on('exit', (code) =>
        this.failAll(new EntitleError('ENTITLE_INTERNAL', `a backtest worker stopped (exit code ${code})`)),
      );
      return slot;
    });
  }

  /** Sends a batch to the least busy worker, with the rule-set versions it has not seen yet. */
  run(message: Omit<BatchMessage, 'bundles'>, bundles: ReadonlyMap<string, unknown>): Promise<BatchTally> {
    if (this.broken) return Promise.reject(this.broken);
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const unsent: Record<string, unknown> = {};
    for (const hash of message.hashes) {
      if (!slot.sent.has(hash)) {
        unsent[hash] = bundles.get(hash);
        slot.sent.add(hash);
      }
    }
    slot.busy++;
    return new Promise((resolve, reject) => {
      this.waiting.set(message.seq, { resolve, reject });
      slot.worker.postMessage({ ...message, bundles: unsent } satisfies BatchMessage);
    });
  }

  private answer(slot: Slot, message: WorkerAnswer): void {
    if (message.seq === undefined) return; // the worker says it is ready
    const waiter = this.waiting.get(message.seq);
    this.waiting.delete(message.seq);
    slot.busy--;
    if (message.tally) waiter?.resolve(message.tally);
    else
      waiter?.reject(
        new EntitleError(
          isErrorCode(message.code) ? message.code : 'ENTITLE_INTERNAL',
          `the backtest could not compare a batch: ${message.error}`,
        ),
      );
  }

  private failAll(error: Error): void {
    this.broken ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  async close(): Promise<void> {
    for (const slot of this.slots) slot.worker.removeAllListeners('exit');
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }
}
