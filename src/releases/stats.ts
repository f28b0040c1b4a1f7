/**
 * The evidence on a release under test: comparison counts summed over every instance
 * (release_stats), and the differing cases kept with both traces (release_samples), which hold
 * personal data and go under the retention policy.
 */
import type { Comparison, ComparisonKind } from '../comparison/index.ts';
import type { Database, Queryable } from '../store/index.ts';

/**
 * Comparison counts for one release: summed over every instance in release_stats, or gathered by
 * one instance's shadow evaluation between two flushes.
 */
export interface ReleaseStats {
  readonly identical: number;
  readonly expected: number;
  readonly unexpected: number;
  readonly candidateError: number;
  readonly activeError: number;
  readonly bothError: number;
  readonly aaIdentical: number;
  readonly aaDifferent: number;
  readonly activeMicros: number;
  readonly candidateMicros: number;
  readonly timed: number;
  readonly firstUnexpectedAt: string | null;
}

export const EMPTY_STATS: ReleaseStats = Object.freeze({
  identical: 0,
  expected: 0,
  unexpected: 0,
  candidateError: 0,
  activeError: 0,
  bothError: 0,
  aaIdentical: 0,
  aaDifferent: 0,
  activeMicros: 0,
  candidateMicros: 0,
  timed: 0,
  firstUnexpectedAt: null,
});

export function compared(stats: ReleaseStats): number {
  return (
    stats.identical + stats.expected + stats.unexpected + stats.candidateError + stats.activeError + stats.bothError
  );
}

/** Which count each kind of comparison adds one to. */
export const COUNT_OF_KIND: Readonly<
  Record<ComparisonKind, 'identical' | 'expected' | 'unexpected' | 'candidateError' | 'activeError' | 'bothError'>
> = {
  identical: 'identical',
  expected: 'expected',
  unexpected: 'unexpected',
  candidate_error: 'candidateError',
  active_error: 'activeError',
  both_error: 'bothError',
};

/** The sum of two sets of counts; the earlier first unexpected difference is kept. */
export function sumStats(a: ReleaseStats, b: ReleaseStats): ReleaseStats {
  return {
    identical: a.identical + b.identical,
    expected: a.expected + b.expected,
    unexpected: a.unexpected + b.unexpected,
    candidateError: a.candidateError + b.candidateError,
    activeError: a.activeError + b.activeError,
    bothError: a.bothError + b.bothError,
    aaIdentical: a.aaIdentical + b.aaIdentical,
    aaDifferent: a.aaDifferent + b.aaDifferent,
    activeMicros: a.activeMicros + b.activeMicros,
    candidateMicros: a.candidateMicros + b.candidateMicros,
    timed: a.timed + b.timed,
    firstUnexpectedAt: a.firstUnexpectedAt ?? b.firstUnexpectedAt,
  };
}

/** A differing case kept with both traces, for people to examine. Holds personal data. */
export interface Sample {
  readonly kind: ComparisonKind;
  readonly applicationId: string;
  readonly inputs: unknown;
  readonly comparison: Comparison;
  readonly activeTrace: unknown;
  readonly candidateTrace: unknown;
  readonly recordedAt: string;
}

/** What one instance compared for one release since its last flush: added to the totals by addStats. */
export interface StatsDelta {
  readonly releaseId: string;
  readonly benefit: string;
  readonly stats: ReleaseStats;
  readonly samples: readonly Sample[];
}

/** The counts every instance has stored for a release: EMPTY_STATS before the first. */
export async function readStats(db: Queryable, id: string): Promise<ReleaseStats> {
  const { rows } = await db.query<Record<string, string | null>>('SELECT * FROM release_stats WHERE release_id = $1', [
    id,
  ]);
  const row = rows[0];
  if (!row) return EMPTY_STATS;
  const n = (column: string) => Number(row[column] ?? 0);
  return {
    identical: n('identical'),
    expected: n('expected'),
    unexpected: n('unexpected'),
    candidateError: n('candidate_error'),
    activeError: n('active_error'),
    bothError: n('both_error'),
    aaIdentical: n('aa_identical'),
    aaDifferent: n('aa_different'),
    activeMicros: n('active_micros'),
    candidateMicros: n('candidate_micros'),
    timed: n('timed'),
    firstUnexpectedAt: row.first_unexpected_at ?? null,
  };
}

/** Comparison counts and sample cases from one instance, added to the releases' totals. */
export async function addStats(db: Database, deltas: readonly StatsDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  await db.transaction(async (tx) => {
    for (const d of deltas) {
      const c = d.stats;
      await tx.query(
        `UPDATE release_stats SET identical = identical + $2, expected = expected + $3, unexpected = unexpected + $4,
           candidate_error = candidate_error + $5, active_error = active_error + $6, both_error = both_error + $7,
           aa_identical = aa_identical + $8, aa_different = aa_different + $9,
           active_micros = active_micros + $10, candidate_micros = candidate_micros + $11, timed = timed + $12,
           first_unexpected_at = LEAST(first_unexpected_at, $13), updated_at = $14
         WHERE release_id = $1`,
        [
          d.releaseId,
          c.identical,
          c.expected,
          c.unexpected,
          c.candidateError,
          c.activeError,
          c.bothError,
          c.aaIdentical,
          c.aaDifferent,
          Math.round(c.activeMicros),
          Math.round(c.candidateMicros),
          c.timed,
          c.firstUnexpectedAt,
          new Date().toISOString(),
        ],
      );
      for (const s of d.samples) {
        await tx.query(
          'INSERT INTO release_samples (release_id, kind, application_id, inputs, comparison, active_trace, candidate_trace, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
          [
            d.releaseId,
            s.kind,
            s.applicationId,
            JSON.stringify(s.inputs),
            JSON.stringify(s.comparison),
            JSON.stringify(s.activeTrace),
            JSON.stringify(s.candidateTrace),
            s.recordedAt,
          ],
        );
      }
    }
  });
}

/**
 * Retention for the differing cases kept from shadow and canary: their inputs and traces hold
 * personal data and go when the decisions' inputs go. The comparison itself stays as evidence.
 */
export async function purgeSampleInputs(db: Queryable, before: string): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    `WITH purged AS (UPDATE release_samples SET inputs = NULL, active_trace = NULL, candidate_trace = NULL WHERE recorded_at < $1 AND inputs IS NOT NULL RETURNING 1)
     SELECT count(*)::int AS count FROM purged`,
    [before],
  );
  return Number(rows[0]?.count ?? 0);
}

/** A differing case kept from shadow or canary, as people look at it (traces stay in the table). */
export interface SampleSummary {
  readonly id: number;
  readonly kind: string;
  readonly applicationId: string;
  readonly recordedAt: string;
  readonly comparison: unknown;
}

/** The differing cases kept for a release, unexpected ones first, newest first within a kind. */
export async function releaseSamples(db: Queryable, id: string, limit = 20): Promise<SampleSummary[]> {
  const { rows } = await db.query<{
    id: number;
    kind: string;
    application_id: string;
    recorded_at: string;
    comparison: unknown;
  }>(
    "SELECT id, kind, application_id, recorded_at, comparison FROM release_samples WHERE release_id = $1 ORDER BY kind = 'unexpected' DESC, id DESC LIMIT $2",
    [id, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    kind: r.kind,
    applicationId: r.application_id,
    recordedAt: r.recorded_at,
    comparison: r.comparison,
  }));
}
