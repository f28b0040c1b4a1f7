import { Gauge, type Registry } from 'prom-client';
import type { Database, Queryable } from '../store/index.ts';
import { CONTROL_CHARACTERS_ALL } from './repository.ts';

export interface AssessmentFailure {
  readonly at: string;
  readonly benefit: string;
  /** The application reference only: never the inputs. */
  readonly applicationId: string | null;
  /** The error code the caller was given, such as ENTITLE_STORE_UNAVAILABLE. */
  readonly code: string;
}

/**
 * Remembers assessments that failed on the service's side, so an incident can count them and
 * list the citizens to recontact. They usually fail because the database is unreachable, so
 * they are kept in memory (bounded) and written once it answers again; what overflows is
 * counted, not silently lost. A process that dies before the database returns loses its
 * buffer; Prometheus still has the counts.
 */
export class FailureRecorder {
  private buffer: AssessmentFailure[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Failures that did not fit in the buffer while the database was away. */
  overflowed = 0;

  constructor(
    private readonly db: Database,
    private readonly limit = 10_000,
  ) {}

  record(failure: AssessmentFailure): void {
    if (this.buffer.length >= this.limit) {
      this.overflowed += 1;
      return;
    }
    // The reference is the caller's text: a character the database refuses would block every write after it.
    const applicationId = failure.applicationId?.replace(CONTROL_CHARACTERS_ALL, '').slice(0, 200) || null;
    this.buffer.push({ ...failure, applicationId });
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Writes what is buffered; on failure keeps it for the next attempt. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async write(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, 500);
      const values: unknown[] = [];
      const rows = batch.map((f) => {
        values.push(f.at, f.benefit, f.applicationId, f.code);
        const n = values.length;
        return `($${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
      });
      try {
        await this.db.query(
          `INSERT INTO assessment_failures (at, benefit, application_id, code) VALUES ${rows.join(', ')}`,
          values,
        );
      } catch {
        return;
      }
      this.buffer = this.buffer.slice(batch.length);
    }
  }

  start(everyMs = 1_000): void {
    this.timer ??= setInterval(() => void this.flush(), everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}

/** The recorder's two gauges, on the registry given: what is waiting for the database, and what was lost. */
export function failureMetrics(registry: Registry, failures: FailureRecorder): void {
  new Gauge({
    name: 'entitle_assessment_failures_pending',
    help: 'Failed assessments kept in memory until the database records them (for incident impact).',
    registers: [registry],
    collect() {
      this.set(failures.pending);
    },
  });
  new Gauge({
    name: 'entitle_assessment_failures_dropped',
    help: 'Failed assessments not kept because the buffer was full while the database was away: missing from incident impact.',
    registers: [registry],
    collect() {
      this.set(failures.overflowed);
    },
  });
}

/**
 * Retention for the failed assessments: their application references go with the decisions'
 * inputs. Rows recorded before `before` are removed; returns how many.
 */
export async function purgeFailures(db: Queryable, before: string): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    'WITH gone AS (DELETE FROM assessment_failures WHERE at < $1 RETURNING 1) SELECT count(*)::int AS count FROM gone',
    [before],
  );
  return Number(rows[0]?.count ?? 0);
}
