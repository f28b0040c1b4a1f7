import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * What is dropped under pressure, in order: the first step at level 1, all three at level 3.
 * Each is also a kill switch (a flag an operator can turn off by hand, src/flags).
 */
export const DEGRADATION_STEPS = ['shadow-evaluation', 'explanation-traces', 'replay-and-reports'] as const;
export type DegradationStep = (typeof DEGRADATION_STEPS)[number];

export interface PressureThresholds {
  /** p99 event-loop delay over one tick, in milliseconds. */
  readonly eventLoopDelayMs: number;
  /** Requests waiting for a database connection. */
  readonly poolWaiting: number;
  /** Requests waiting for admission. */
  readonly queueDepth: number;
}

export interface DegradationSettings {
  readonly thresholds: PressureThresholds;
  /** How often pressure is measured. */
  readonly tickMs: number;
  /**
   * How many ticks in a row a signal must be past its threshold before a step is dropped, and
   * between further steps: one stall (a garbage collection, one slow query) is not pressure.
   */
  readonly sustainTicks: number;
  /**
   * How long every signal must stay below half its threshold before one step is restored. The gap
   * between the threshold that engages a step and the half that restores it is the hysteresis.
   */
  readonly calmMs: number;
}

export const DEFAULT_DEGRADATION: DegradationSettings = {
  thresholds: { eventLoopDelayMs: 200, poolWaiting: 16, queueDepth: 32 },
  tickMs: 500,
  sustainTicks: 2,
  calmMs: 2_000,
};

export interface PressureReading {
  readonly eventLoopDelayMs: number;
  readonly poolWaiting: number;
  readonly queueDepth: number;
}

export interface DegradationLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface DegradationSources {
  readonly poolWaiting: () => number;
  readonly queueDepth: () => number;
  /** Whether automatic degradation is allowed (the automatic-degradation flag). */
  readonly automatic: () => boolean;
  /** Whether a step is switched on by its flag (an operator's kill switch). */
  readonly flagOn: (step: DegradationStep) => boolean;
}

/**
 * Graceful degradation for one instance: measures pressure every tick and drops non-critical work
 * step by step while any signal is past its threshold, then restores it one step at a time once
 * every signal has stayed below half its threshold for `calmMs`. Citizen assessments are never a
 * step: they are protected by admission control instead.
 */
export class Degradation {
  private current = 0;
  private calmSince: number | undefined;
  private overTicks = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly delay: IntervalHistogram;
  private lastReading: PressureReading = { eventLoopDelayMs: 0, poolWaiting: 0, queueDepth: 0 };
  private readonly metrics: ReturnType<typeof degradationMetrics>;

  constructor(
    readonly settings: DegradationSettings,
    private readonly sources: DegradationSources,
    registry: Registry,
    private readonly log: DegradationLog,
  ) {
    this.delay = monitorEventLoopDelay({ resolution: 10 });
    this.metrics = degradationMetrics(registry, this);
  }

  start(): void {
    this.delay.enable();
    this.timer = setInterval(() => this.tick(), this.settings.tickMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.delay.disable();
  }

  /** 0: everything runs; 1: no shadow evaluation; 2: and no traces; 3: and no replay or reports. */
  get level(): number {
    return this.current;
  }

  get reading(): PressureReading {
    return this.lastReading;
  }

  /** Whether a step's work may run now: its flag is on and pressure has not dropped it. */
  allows(step: DegradationStep): boolean {
    return this.sources.flagOn(step) && this.current <= DEGRADATION_STEPS.indexOf(step);
  }

  /** Whether the step is dropped by pressure (rather than by its flag). */
  dropsAutomatically(step: DegradationStep): boolean {
    return this.current > DEGRADATION_STEPS.indexOf(step);
  }

  /** Counts work not done because a step was dropped, for the shed metric. */
  shed(step: DegradationStep): void {
    this.metrics.shed.inc({ step, by: this.dropsAutomatically(step) ? 'pressure' : 'flag' });
  }

  /** One measurement and decision; public so tests can drive it without waiting for the timer. */
  tick(now = Date.now()): void {
    const reading: PressureReading = {
      eventLoopDelayMs: this.delay.count > 0 ? this.delay.percentile(99) / 1e6 : 0,
      poolWaiting: this.sources.poolWaiting(),
      queueDepth: this.sources.queueDepth(),
    };
    this.delay.reset();
    this.lastReading = reading;
    const t = this.settings.thresholds;
    const over = (Object.keys(t) as (keyof PressureThresholds)[]).filter((signal) => reading[signal] >= t[signal]);
    const calm = (Object.keys(t) as (keyof PressureThresholds)[]).every((signal) => reading[signal] < t[signal] / 2);
    if (!this.sources.automatic()) {
      this.calmSince = undefined;
      this.overTicks = 0;
      if (this.current !== 0) this.setLevel(0, reading, ['automatic degradation switched off']);
      return;
    }
    if (over.length > 0) {
      this.calmSince = undefined;
      this.overTicks += 1;
      if (this.overTicks >= this.settings.sustainTicks && this.current < DEGRADATION_STEPS.length) {
        this.overTicks = 0;
        this.setLevel(this.current + 1, reading, over);
      }
      return;
    }
    this.overTicks = 0;
    if (!calm || this.current === 0) {
      this.calmSince = calm ? this.calmSince : undefined;
      return;
    }
    this.calmSince ??= now;
    if (now - this.calmSince >= this.settings.calmMs) {
      this.calmSince = now;
      this.setLevel(this.current - 1, reading, []);
    }
  }

  private setLevel(level: number, reading: PressureReading, signals: readonly string[]): void {
    const rising = level > this.current;
    const step = DEGRADATION_STEPS[rising ? level - 1 : level]!;
    this.current = level;
    this.metrics.changes.inc({ direction: rising ? 'engaged' : 'restored', step });
    const fields = {
      event: rising ? 'degradation_engaged' : 'degradation_restored',
      level,
      step,
      signals,
      eventLoopDelayMs: Math.round(reading.eventLoopDelayMs),
      poolWaiting: reading.poolWaiting,
      queueDepth: reading.queueDepth,
    };
    if (rising)
      this.log.warn(fields, `under pressure: ${step} is dropped until pressure falls; citizen assessments continue`);
    else this.log.info(fields, `pressure has fallen: ${step} is restored`);
  }
}

function degradationMetrics(registry: Registry, degradation: Degradation) {
  return {
    level: new Gauge({
      name: 'entitle_degradation_level',
      help: 'Graceful degradation level of this instance: 0 all work runs; 1 no shadow evaluation; 2 no explanation traces; 3 no replay or report endpoints.',
      registers: [registry],
      collect() {
        this.set(degradation.level);
      },
    }),
    available: new Gauge({
      name: 'entitle_feature_available',
      help: 'Whether each piece of non-critical work runs on this instance now (1) or is dropped (0), by its flag or by pressure.',
      labelNames: ['step'] as const,
      registers: [registry],
      collect() {
        for (const step of DEGRADATION_STEPS) this.set({ step }, degradation.allows(step) ? 1 : 0);
      },
    }),
    changes: new Counter({
      name: 'entitle_degradation_changes_total',
      help: 'Degradation steps engaged or restored by this instance, by direction and step.',
      labelNames: ['direction', 'step'] as const,
      registers: [registry],
    }),
    shed: new Counter({
      name: 'entitle_degradation_shed_total',
      help: 'Work not done because its step was dropped, by step and by what dropped it (pressure, flag).',
      labelNames: ['step', 'by'] as const,
      registers: [registry],
    }),
    eventLoop: new Gauge({
      name: 'entitle_pressure_event_loop_delay_seconds',
      help: 'p99 event-loop delay over the last degradation tick.',
      registers: [registry],
      collect() {
        this.set(degradation.reading.eventLoopDelayMs / 1000);
      },
    }),
    poolWaiting: new Gauge({
      name: 'entitle_pressure_db_pool_waiting',
      help: 'Requests waiting for a database connection at the last degradation tick.',
      registers: [registry],
      collect() {
        this.set(degradation.reading.poolWaiting);
      },
    }),
  };
}
