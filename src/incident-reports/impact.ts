import type { Incident } from '../incidents/index.ts';
import { getRelease } from '../releases/index.ts';
import { affectedApplications, type WorklistEntry } from '../remediation/index.ts';
import type { Database, Queryable } from '../store/index.ts';

/** The impact window: from when citizens were first affected to resolution (or now). */
export interface Window {
  readonly from: string;
  readonly to: string;
  /** The incident is not resolved: the window runs to now and figures will grow. */
  readonly open: boolean;
}

export function impactWindow(incident: Incident, now: Date = new Date()): Window {
  return { from: incident.startedAt, to: incident.resolvedAt ?? now.toISOString(), open: incident.resolvedAt === null };
}

export interface Recontact {
  readonly applicationId: string;
  readonly benefit: string;
  readonly firstFailedAt: string;
  readonly failures: number;
}

export interface ReleaseImpact {
  readonly releaseId: string;
  readonly benefit: string;
  readonly state: string;
  readonly summary: string;
  /** Decisions the release made (in its canary, or while active). */
  readonly decisions: number;
  /** Counts from the remediation worklist, when the release was rolled back. */
  readonly worklist: {
    readonly unchanged: number;
    readonly underpaid: number;
    readonly overpaid: number;
    readonly entitlementChanged: number;
    readonly byHand: number;
    readonly totalUnderpaidPence: number;
    readonly totalOverpaidPence: number;
  } | null;
  /** The command that lists the decisions to correct. */
  readonly command: string;
}

/** Citizen impact, computed from what was recorded; nothing here is estimated. */
export interface Impact {
  readonly incident: string;
  readonly window: Window;
  /** Benefits counted (empty: every benefit). */
  readonly benefits: readonly string[];
  readonly assessments: {
    /** Decisions recorded in the window. */
    readonly decided: number;
    /** Assessments that failed on the service's side in the window. */
    readonly failed: number;
    readonly failedApplications: number;
    /** Of those applications, how many got a decision later (up to now). */
    readonly laterDecided: number;
    readonly stillWithoutDecision: number;
  };
  /**
   * Assessments that failed in the 30 minutes before the window: an alert fires minutes after the
   * failures begin, so these may belong to the incident (then move its start back).
   */
  readonly failedJustBefore: number;
  /** Citizens whose application failed and who have no decision since: contact them. */
  readonly recontact: readonly Recontact[];
  readonly releases: readonly ReleaseImpact[];
  /** Decisions to correct, from the remediation worklists of the releases. */
  readonly correct: readonly (WorklistEntry & { readonly releaseId: string })[];
}

function benefitFilter(benefits: readonly string[], values: unknown[], column = 'benefit'): string {
  if (benefits.length === 0) return '';
  values.push([...benefits]);
  return ` AND ${column} = ANY($${values.length})`;
}

const LOOK_BACK_MS = 30 * 60_000;

async function failuresBetween(db: Queryable, from: string, to: string, benefits: readonly string[]): Promise<number> {
  const values: unknown[] = [from, to];
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM assessment_failures WHERE at >= $1 AND at < $2${benefitFilter(benefits, values)}`,
    values,
  );
  return Number(rows[0]?.n ?? 0);
}

async function assessmentFigures(
  db: Queryable,
  window: Window,
  benefits: readonly string[],
): Promise<{
  decided: number;
  recontact: Recontact[];
  failed: number;
  failedApplications: number;
  laterDecided: number;
}> {
  const decidedValues: unknown[] = [window.from, window.to];
  const decided = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM decisions WHERE created_at >= $1 AND created_at <= $2${benefitFilter(benefits, decidedValues)}`,
    decidedValues,
  );
  const values: unknown[] = [window.from, window.to];
  const filter = benefitFilter(benefits, values);
  const { rows } = await db.query<{
    application_id: string | null;
    benefit: string;
    first_at: string;
    failures: number;
    decided_at: string | null;
  }>(
    `WITH failed AS (
       SELECT application_id, benefit, min(at) AS first_at, count(*)::int AS failures
       FROM assessment_failures WHERE at >= $1 AND at <= $2${filter}
       GROUP BY application_id, benefit)
     SELECT f.*, (SELECT min(d.created_at) FROM decisions d WHERE d.application_id = f.application_id AND d.benefit = f.benefit AND d.created_at > f.first_at) AS decided_at
     FROM failed f ORDER BY f.first_at, f.application_id`,
    values,
  );
  const failed = rows.reduce((sum, r) => sum + Number(r.failures), 0);
  // Failures without a reference (the input never named one) cannot be followed up or counted as applications.
  const known = rows.filter((r) => r.application_id !== null);
  const recontact = known
    .filter((r) => r.decided_at === null)
    .map((r) => ({
      applicationId: r.application_id!,
      benefit: r.benefit,
      firstFailedAt: r.first_at,
      failures: Number(r.failures),
    }));
  return {
    decided: Number(decided.rows[0]?.n ?? 0),
    failed,
    failedApplications: known.length,
    laterDecided: known.filter((r) => r.decided_at !== null).length,
    recontact,
  };
}

/**
 * The citizen impact of an incident: assessments that failed in its window and whether the same
 * application was decided later; decisions made by the releases involved (and, for a rolled-back
 * release, the remediation worklist); and the applications to recontact or correct. Listing a
 * worklist is audited under `actor`.
 */
export async function incidentImpact(
  db: Database,
  incident: Incident,
  actor: string,
  now: Date = new Date(),
): Promise<Impact> {
  const window = impactWindow(incident, now);
  const figures = await assessmentFigures(db, window, incident.benefits);
  const failedJustBefore = await failuresBetween(
    db,
    new Date(Date.parse(window.from) - LOOK_BACK_MS).toISOString(),
    window.from,
    incident.benefits,
  );
  const releases: ReleaseImpact[] = [];
  const correct: (WorklistEntry & { releaseId: string })[] = [];
  for (const releaseId of incident.releaseIds) {
    const release = await getRelease(db, releaseId);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM decisions WHERE release_id = $1', [
      releaseId,
    ]);
    const decisions = Number(rows[0]?.n ?? 0);
    let worklist: ReleaseImpact['worklist'] = null;
    if (release.state === 'rolled-back' && decisions > 0) {
      const list = await affectedApplications(db, releaseId, actor);
      worklist = {
        unchanged: list.unchanged,
        underpaid: list.underpaid,
        overpaid: list.overpaid,
        entitlementChanged: list.entitlementChanged,
        byHand: list.byHand,
        totalUnderpaidPence: list.totalUnderpaidPence,
        totalOverpaidPence: list.totalOverpaidPence,
      };
      correct.push(...list.entries.map((e) => ({ ...e, releaseId })));
    }
    releases.push({
      releaseId,
      benefit: release.benefit,
      state: release.state,
      summary: release.summary,
      decisions,
      worklist,
      command: `entitle release affected ${releaseId}`,
    });
  }
  return {
    incident: incident.id,
    window,
    benefits: incident.benefits,
    assessments: {
      decided: figures.decided,
      failed: figures.failed,
      failedApplications: figures.failedApplications,
      laterDecided: figures.laterDecided,
      stillWithoutDecision: figures.recontact.length,
    },
    failedJustBefore,
    recontact: figures.recontact,
    releases,
    correct,
  };
}

/** Per-minute counts of decisions and failed assessments between two instants (minutes with any). */
export async function assessmentsByMinute(
  db: Queryable,
  from: string,
  to: string,
  benefits: readonly string[],
): Promise<{ minute: string; decided: number; failed: number }[]> {
  const dValues: unknown[] = [from, to];
  const decided = await db.query<{ minute: string; n: number }>(
    `SELECT substr(created_at, 1, 16) AS minute, count(*)::int AS n FROM decisions WHERE created_at >= $1 AND created_at <= $2${benefitFilter(benefits, dValues)} GROUP BY 1`,
    dValues,
  );
  const fValues: unknown[] = [from, to];
  const failed = await db.query<{ minute: string; n: number }>(
    `SELECT substr(at, 1, 16) AS minute, count(*)::int AS n FROM assessment_failures WHERE at >= $1 AND at <= $2${benefitFilter(benefits, fValues)} GROUP BY 1`,
    fValues,
  );
  const minutes = new Map<string, { minute: string; decided: number; failed: number }>();
  const at = (minute: string) =>
    minutes.get(minute) ?? minutes.set(minute, { minute: `${minute}:00.000Z`, decided: 0, failed: 0 }).get(minute)!;
  for (const row of decided.rows) at(row.minute).decided = Number(row.n);
  for (const row of failed.rows) at(row.minute).failed = Number(row.n);
  return [...minutes.values()].sort((a, b) => a.minute.localeCompare(b.minute));
}
