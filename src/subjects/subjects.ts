import { createHash } from 'node:crypto';
import { appendAuditEvent } from '../audit/index.ts';
import type { Database } from '../store/index.ts';

/**
 * A data subject's rights over what Entitle holds about one application: access (everything held,
 * as one JSON document) and erasure (the personal inputs removed). Both are recorded in the audit
 * chain, naming the application only by a digest, so the permanent record holds no reference
 * that was not already in it.
 */

/** Who asks: the person holding the key, and the key (each decision's read log names the key). */
export interface Requester {
  readonly person: string;
  readonly keyId: string;
  readonly keyName: string;
}

/** An application reference as the audit chain names it: a digest, never the reference itself. */
export function applicationDigest(applicationId: string): string {
  return `sha256:${createHash('sha256').update(applicationId).digest('hex').slice(0, 16)}`;
}

export interface SubjectExport {
  readonly applicationId: string;
  readonly exportedAt: string;
  readonly decisions: readonly {
    readonly decisionId: string;
    readonly benefit: string;
    readonly assessmentDate: string;
    readonly recordedAt: string;
    readonly ruleset: { readonly id: string; readonly hash: string };
    /** The household as it was sent; null once removed under retention or erasure. */
    readonly inputs: unknown;
    readonly inputsRemovedAt: string | null;
    readonly outcome: unknown;
    readonly explanation: readonly string[];
    readonly recordHash: string;
    /** Every read of the decision: by which key, what for, when. */
    readonly reads: readonly { readonly keyName: string; readonly action: string; readonly at: string }[];
  }[];
  /** Cases kept from comparing a rule change on this application (shadow or canary). */
  readonly releaseComparisons: readonly {
    readonly releaseId: string;
    readonly kind: string;
    readonly recordedAt: string;
    readonly inputs: unknown;
    readonly comparison: unknown;
  }[];
  /** Requests for this application the service failed to decide (on its side). */
  readonly failedAssessments: readonly { readonly at: string; readonly benefit: string; readonly code: string }[];
  /** What is held elsewhere, or not at all. */
  readonly notes: readonly string[];
}

const NOTES = [
  'Idempotency-Keys sent with requests are held only as hashes, for 24 hours.',
  'Logs, metrics and alerts hold no personal data: no inputs, and no application references.',
  'Each decision is also a leaf of the verifiable log: a hash, from which nothing can be read back.',
];

/** Everything held about an application; the access itself is recorded (each decision's reads, and the audit chain). */
export async function exportSubject(db: Database, applicationId: string, by: Requester): Promise<SubjectExport> {
  const exportedAt = new Date().toISOString();
  const { rows: decisions } = await db.query<{
    id: string;
    benefit: string;
    assessment_date: string;
    created_at: string;
    ruleset_id: string;
    ruleset_hash: string;
    inputs: unknown;
    purged_at: string | null;
    outcome: unknown;
    explanation: string[];
    record_hash: string;
  }>(
    `SELECT id, benefit, assessment_date, created_at, ruleset_id, ruleset_hash, inputs, purged_at, outcome, explanation, record_hash
       FROM decisions WHERE application_id = $1 ORDER BY id`,
    [applicationId],
  );
  const ids = decisions.map((d) => d.id);
  const { rows: reads } = await db.query<{ decision_id: string; key_name: string; action: string; read_at: string }>(
    'SELECT decision_id, key_name, action, read_at FROM decision_reads WHERE decision_id = ANY($1::uuid[]) ORDER BY id',
    [ids],
  );
  const { rows: samples } = await db.query<{
    release_id: string;
    kind: string;
    recorded_at: string;
    inputs: unknown;
    comparison: unknown;
  }>(
    'SELECT release_id, kind, recorded_at, inputs, comparison FROM release_samples WHERE application_id = $1 ORDER BY id',
    [applicationId],
  );
  const { rows: failures } = await db.query<{ at: string; benefit: string; code: string }>(
    'SELECT at, benefit, code FROM assessment_failures WHERE application_id = $1 ORDER BY id',
    [applicationId],
  );
  await db.transaction(async (tx) => {
    // The export is a read of each decision, by this key, like any other.
    if (ids.length > 0)
      await tx.query(
        `INSERT INTO decision_reads (decision_id, key_id, key_name, action, read_at)
         SELECT d, $2, $3, 'subject-export', $4 FROM unnest($1::uuid[]) AS d`,
        [ids, by.keyId, by.keyName, exportedAt],
      );
    await appendAuditEvent(tx, {
      actor: by.person,
      action: 'subject.exported',
      subject: `application ${applicationDigest(applicationId)}`,
      reason: 'a subject access request: everything held about one application',
      evidence: { decisions: ids.length, releaseComparisons: samples.length, failedAssessments: failures.length },
    });
  });
  return {
    applicationId,
    exportedAt,
    decisions: decisions.map((d) => ({
      decisionId: d.id,
      benefit: d.benefit,
      assessmentDate: d.assessment_date,
      recordedAt: d.created_at,
      ruleset: { id: d.ruleset_id, hash: d.ruleset_hash },
      inputs: d.inputs,
      inputsRemovedAt: d.purged_at,
      outcome: d.outcome,
      explanation: d.explanation,
      recordHash: d.record_hash,
      reads: reads
        .filter((r) => r.decision_id === d.id)
        .map((r) => ({ keyName: r.key_name, action: r.action, at: r.read_at })),
    })),
    releaseComparisons: samples.map((s) => ({
      releaseId: s.release_id,
      kind: s.kind,
      recordedAt: s.recorded_at,
      inputs: s.inputs,
      comparison: s.comparison,
    })),
    failedAssessments: failures,
    notes: NOTES,
  };
}

export interface SubjectErasure {
  readonly applicationId: string;
  readonly erasedAt: string;
  /** Decisions whose inputs were removed now (those already removed are not counted). */
  readonly decisions: number;
  readonly releaseComparisons: number;
  readonly failedAssessments: number;
}

/**
 * Erases what Entitle holds about an application that it may erase: the inputs of its decisions
 * (each record keeps the digest of its inputs, so the record and the log still verify), the inputs
 * and traces kept with release comparisons, and its failed-assessment records. The decisions
 * themselves, their outcomes and explanations stay: they are the record of what was decided, kept
 * for appeals and challenges. One transaction, recorded in the audit chain with the reason.
 */
export async function eraseSubject(
  db: Database,
  applicationId: string,
  by: Requester,
  reason: string,
): Promise<SubjectErasure> {
  const erasedAt = new Date().toISOString();
  return db.transaction(async (tx) => {
    const count = async (sql: string, values: unknown[]) =>
      Number((await tx.query<{ count: number }>(sql, values)).rows[0]?.count ?? 0);
    const decisions = await count(
      `WITH gone AS (UPDATE decisions SET inputs = NULL, purged_at = $2 WHERE application_id = $1 AND inputs IS NOT NULL RETURNING 1)
       SELECT count(*)::int AS count FROM gone`,
      [applicationId, erasedAt],
    );
    const releaseComparisons = await count(
      `WITH gone AS (UPDATE release_samples SET inputs = NULL, active_trace = NULL, candidate_trace = NULL
         WHERE application_id = $1 AND (inputs IS NOT NULL OR active_trace IS NOT NULL OR candidate_trace IS NOT NULL) RETURNING 1)
       SELECT count(*)::int AS count FROM gone`,
      [applicationId],
    );
    const failedAssessments = await count(
      'WITH gone AS (DELETE FROM assessment_failures WHERE application_id = $1 RETURNING 1) SELECT count(*)::int AS count FROM gone',
      [applicationId],
    );
    await appendAuditEvent(tx, {
      actor: by.person,
      action: 'subject.erased',
      subject: `application ${applicationDigest(applicationId)}`,
      reason,
      evidence: { decisions, releaseComparisons, failedAssessments, erasedAt },
    });
    return { applicationId, erasedAt, decisions, releaseComparisons, failedAssessments };
  });
}
