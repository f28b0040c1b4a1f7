import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { EntitleError } from '../errors/index.ts';

/** Citizen assessments first, then batch assessments, then operator and report traffic. */
export const PRIORITIES = ['citizen', 'batch', 'operator'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface AdmissionSettings {
  /** Requests worked on at once; the rest wait in the queue. */
  readonly maxConcurrent: number;
  /** Requests that may wait; beyond it a request is answered 503 at once. */
  readonly queueLimit: number;
  /** The longest a request waits for a slot before it is answered 503 (before clients time out). */
  readonly maxWaitMs: number;
  /** Slots only citizen assessments may use, so batch and operator work cannot crowd them out. */
  readonly citizenReserved: number;
}

export const DEFAULT_ADMISSION: AdmissionSettings = {
  maxConcurrent: 64,
  queueLimit: 64,
  maxWaitMs: 1_000,
  citizenReserved: 16,
};

interface Waiter {
  readonly priority: Priority;
  readonly since: number;
  readonly start: () => void;
  readonly refuse: (error: EntitleError) => void;
  timer: NodeJS.Timeout | undefined;
}

export type RejectReason = 'queue_full' | 'waited_too_long' | 'displaced';

function overloaded(reason: RejectReason): EntitleError {
  const why: Record<RejectReason, string> = {
    queue_full: 'every place in the queue is taken',
    waited_too_long: 'the request waited too long for a place',
    displaced: "a citizen assessment took this request's place in the queue",
  };
  return new EntitleError('ENTITLE_OVERLOADED', `the service is at capacity: ${why[reason]}; nothing was recorded`);
}

/**
 * Admission control: a bounded priority queue in front of the work. Citizen assessments go ahead
 * of batch, batch ahead of operator traffic; a full queue answers at once (503 with Retry-After)
 * rather than letting requests pile up into timeouts, and a citizen arriving at a full queue takes
 * the place of the newest lower-priority request. Written by hand: no maintained package
 * combines priorities, a bounded queue, per-request wait limits and displacement.
 */
export class Admission {
  private active = 0;
  private readonly queues: Record<Priority, Waiter[]> = { citizen: [], batch: [], operator: [] };
  private readonly metrics: ReturnType<typeof admissionMetrics>;

  constructor(
    readonly settings: AdmissionSettings,
    registry: Registry,
  ) {
    this.metrics = admissionMetrics(registry, this);
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queues.citizen.length + this.queues.batch.length + this.queues.operator.length;
  }

  queuedOf(priority: Priority): number {
    return this.queues[priority].length;
  }

  /**
   * Resolves with a release function once the request may proceed, or throws ENTITLE_OVERLOADED.
   * The caller must call the release function exactly once (it ignores further calls).
   */
  async acquire(priority: Priority): Promise<() => void> {
    if (this.canStart(priority) && !this.anyWaitingFor(priority)) return this.started(priority, 0);
    if (this.queued >= this.settings.queueLimit && !this.displaceFor(priority))
      throw this.refused(priority, 'queue_full');
    // Lower priorities may fill at most half the queue: the rest is kept for citizens.
    if (
      priority !== 'citizen' &&
      this.queues.batch.length + this.queues.operator.length >= this.settings.queueLimit / 2
    )
      throw this.refused(priority, 'queue_full');
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        priority,
        since: Date.now(),
        start: () => resolve(this.started(priority, Date.now() - waiter.since)),
        refuse: reject,
        timer: undefined,
      };
      waiter.timer = setTimeout(() => {
        this.remove(waiter);
        reject(this.refused(priority, 'waited_too_long'));
      }, this.settings.maxWaitMs);
      this.queues[priority].push(waiter);
    });
  }

  private canStart(priority: Priority): boolean {
    const limit =
      priority === 'citizen'
        ? this.settings.maxConcurrent
        : this.settings.maxConcurrent - this.settings.citizenReserved;
    return this.active < limit;
  }

  /** Whether someone of this priority or higher is already waiting (they go first). */
  private anyWaitingFor(priority: Priority): boolean {
    for (const p of PRIORITIES) {
      if (this.queues[p].length > 0) return true;
      if (p === priority) return false;
    }
    return false;
  }

  private displaceFor(priority: Priority): boolean {
    if (priority !== 'citizen') return false;
    for (const lower of ['operator', 'batch'] as const) {
      const victim = this.queues[lower].pop();
      if (!victim) continue;
      clearTimeout(victim.timer);
      victim.refuse(this.refused(lower, 'displaced'));
      return true;
    }
    return false;
  }

  private started(priority: Priority, waitedMs: number): () => void {
    this.active += 1;
    this.metrics.waited.observe({ priority }, waitedMs / 1000);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      this.next();
    };
  }

  private next(): void {
    for (const priority of PRIORITIES) {
      const queue = this.queues[priority];
      while (queue.length > 0 && this.canStart(priority)) {
        const waiter = queue.shift()!;
        clearTimeout(waiter.timer);
        waiter.start();
      }
      if (queue.length > 0) return;
    }
  }

  private remove(waiter: Waiter): void {
    const queue = this.queues[waiter.priority];
    const at = queue.indexOf(waiter);
    if (at >= 0) queue.splice(at, 1);
  }

  private refused(priority: Priority, reason: RejectReason): EntitleError {
    this.metrics.rejected.inc({ priority, reason });
    return overloaded(reason);
  }
}

function admissionMetrics(registry: Registry, admission: Admission) {
  return {
    rejected: new Counter({
      name: 'entitle_admission_rejected_total',
      help: 'Requests answered 503 by admission control, by priority (citizen, batch, operator) and reason (queue_full, waited_too_long, displaced). Nothing was recorded for them.',
      labelNames: ['priority', 'reason'] as const,
      registers: [registry],
    }),
    waited: new Histogram({
      name: 'entitle_admission_wait_seconds',
      help: 'Time requests waited in the admission queue before work on them started, by priority.',
      labelNames: ['priority'] as const,
      buckets: [0, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'entitle_admission_in_flight',
      help: 'Requests being worked on now (admitted).',
      registers: [registry],
      collect() {
        this.set(admission.inFlight);
      },
    }),
    queued: new Gauge({
      name: 'entitle_admission_queue_depth',
      help: 'Requests waiting for admission, by priority.',
      labelNames: ['priority'] as const,
      registers: [registry],
      collect() {
        for (const priority of PRIORITIES) this.set({ priority }, admission.queuedOf(priority));
      },
    }),
  };
}
