import type { RuleSetBundle } from '../rules/index.ts';
import type { Database, Queryable } from '../store/index.ts';
import { fromRow, type DecisionRecord, type DecisionRow } from './record.ts';

/** Who is reading: every read of a decision is recorded, because decisions hold personal data. */
export interface Reader {
  readonly keyId: string;
  readonly keyName: string;
}

/**
 * Fetches a decision and records the read in the same transaction: if the read cannot be
 * recorded, the decision is not returned.
 */
export async function readDecision(
  db: Database,
  id: string,
  reader: Reader,
  action: 'read' | 'replay' | 'receipt',
): Promise<DecisionRecord | undefined> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<DecisionRow>('SELECT * FROM decisions WHERE id = $1', [id]);
    const row = rows[0];
    if (!row) return undefined;
    await tx.query(
      'INSERT INTO decision_reads (decision_id, key_id, key_name, action, read_at) VALUES ($1, $2, $3, $4, $5)',
      [id, reader.keyId, reader.keyName, action, new Date().toISOString()],
    );
    return fromRow(row);
  });
}

/** Stores a rule-set version (idempotent): replay and rollback never need the files again. */
export async function storeBundle(db: Queryable, bundle: RuleSetBundle, hash: string): Promise<void> {
  await db.query(
    'INSERT INTO ruleset_versions (hash, ruleset_id, benefit, bundle) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING',
    [hash, bundle.ruleset.id, bundle.ruleset.benefit, JSON.stringify(bundle)],
  );
}

/** The stored rule-set bundle with this hash, as it was when first used. */
export async function storedBundle(db: Database, hash: string): Promise<unknown> {
  const { rows } = await db.query<{ bundle: unknown }>('SELECT bundle FROM ruleset_versions WHERE hash = $1', [hash]);
  return rows[0]?.bundle;
}

export interface ReadLogEntry {
  readonly decisionId: string;
  readonly keyName: string;
  readonly action: string;
  readonly readAt: string;
}

/** Who read a decision, and when (for auditors). */
export async function readsOf(db: Database, decisionId: string): Promise<ReadLogEntry[]> {
  const { rows } = await db.query<{ decision_id: string; key_name: string; action: string; read_at: string }>(
    'SELECT decision_id, key_name, action, read_at FROM decision_reads WHERE decision_id = $1 ORDER BY id',
    [decisionId],
  );
  return rows.map((r) => ({ decisionId: r.decision_id, keyName: r.key_name, action: r.action, readAt: r.read_at }));
}

/**
 * Removes the personal inputs of decisions made before `before` (retention). Each record keeps
 * the digest of its inputs, so the chain still verifies. Returns how many were purged.
 */
export async function purgeInputs(
  db: Database,
  before: string,
  options: { readonly batch?: number; readonly onProgress?: (purged: number) => void } = {},
): Promise<number> {
  // In batches, so each statement ends well within the service's statement deadline however many
  // days of decisions are due, and a purge stopped half way keeps what it did.
  const batch = options.batch ?? 5_000;
  const purgedAt = new Date().toISOString();
  let total = 0;
  for (;;) {
    const { rows } = await db.query<{ count: number }>(
      `WITH purged AS (
         UPDATE decisions SET inputs = NULL, purged_at = $2
          WHERE seq IN (SELECT seq FROM decisions WHERE created_at < $1 AND inputs IS NOT NULL ORDER BY seq LIMIT $3)
            AND inputs IS NOT NULL
          RETURNING 1)
       SELECT count(*)::int AS count FROM purged`,
      [before, purgedAt, batch],
    );
    const purged = Number(rows[0]?.count ?? 0);
    total += purged;
    options.onProgress?.(total);
    if (purged < batch) return total;
  }
}

/** How many decisions made before `before` still hold their inputs. */
export async function inputsHeldBefore(db: Queryable, before: string): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    'SELECT count(*)::int AS count FROM decisions WHERE created_at < $1 AND inputs IS NOT NULL',
    [before],
  );
  return Number(rows[0]?.count ?? 0);
}

/** A decision recorded whose caller never had the answer (see DecisionWriter.acknowledgementLost). */
export interface UnacknowledgedDecision {
  readonly decisionId: string;
  readonly benefit: string;
  readonly applicationId: string;
  readonly recordedAt: string;
  readonly reason: 'client_gone' | 'deadline';
  readonly notedAt: string;
}

/** Decisions whose callers never had the answer, noted at or after `since`, oldest first. */
export async function unacknowledgedDecisions(
  db: Queryable,
  since: string,
  limit: number,
): Promise<UnacknowledgedDecision[]> {
  const { rows } = await db.query<{
    decision_id: string;
    benefit: string;
    application_id: string;
    created_at: string;
    reason: 'client_gone' | 'deadline';
    noted_at: string;
  }>(
    `SELECT u.decision_id, d.benefit, d.application_id, d.created_at, u.reason, u.noted_at
       FROM unacknowledged_decisions u JOIN decisions d ON d.id = u.decision_id
      WHERE u.noted_at >= $1 ORDER BY u.noted_at, u.decision_id LIMIT $2`,
    [since, limit],
  );
  return rows.map((r) => ({
    decisionId: r.decision_id,
    benefit: r.benefit,
    applicationId: r.application_id,
    recordedAt: r.created_at,
    reason: r.reason,
    notedAt: r.noted_at,
  }));
}
