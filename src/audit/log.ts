import { v7 as uuidv7 } from 'uuid';
import { canonicalJson, GENESIS_HASH, sha256 } from '../decisions/index.ts';
import { verifyLog, type ExternalCheckpoint, type LeafCheck, type LogReport, type Verifiers } from '../log/index.ts';
import type { Database, Queryable } from '../store/index.ts';

/** One operational action: who did what to which subject, when, why, and with what evidence. */
export interface AuditEventDraft {
  readonly actor: string;
  /** Dotted and stable, such as `release.promoted` or `release.rolled_back`. */
  readonly action: string;
  /** What it acted on, such as a release id. */
  readonly subject: string;
  readonly reason: string;
  readonly evidence?: Record<string, unknown>;
}

export interface AuditEvent extends AuditEventDraft {
  readonly seq: number;
  readonly id: string;
  readonly at: string;
  readonly evidence: Record<string, unknown>;
  readonly prevHash: string;
  readonly hash: string;
}

interface AuditRow {
  seq: number;
  id: string;
  at: string;
  actor: string;
  action: string;
  subject: string;
  reason: string;
  evidence: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

function eventHash(event: Omit<AuditEvent, 'hash'>): string {
  return sha256(
    canonicalJson({
      seq: event.seq,
      id: event.id,
      at: event.at,
      actor: event.actor,
      action: event.action,
      subject: event.subject,
      reason: event.reason,
      evidence: event.evidence,
      prevHash: event.prevHash,
    }),
  );
}

function fromRow(row: AuditRow): AuditEvent {
  return {
    seq: Number(row.seq),
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    reason: row.reason,
    evidence: row.evidence,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * Appends an event to the audit chain inside the caller's transaction, so the event and the change
 * it records commit together or not at all. Events join the chain one at a time, under a lock on
 * its head, whichever instance or command writes them.
 */
export async function appendAuditEvent(tx: Queryable, draft: AuditEventDraft): Promise<AuditEvent> {
  const { rows } = await tx.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head FOR UPDATE');
  const head = rows[0];
  if (!head) throw new Error('the audit chain head is missing: the database was not migrated');
  const unsigned = {
    ...draft,
    evidence: draft.evidence ?? {},
    seq: Number(head.seq) + 1,
    id: uuidv7(),
    at: new Date().toISOString(),
    prevHash: head.hash,
  };
  const event: AuditEvent = { ...unsigned, hash: eventHash(unsigned) };
  await tx.query(
    'INSERT INTO audit_events (seq, id, at, actor, action, subject, reason, evidence, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
    [
      event.seq,
      event.id,
      event.at,
      event.actor,
      event.action,
      event.subject,
      event.reason,
      JSON.stringify(event.evidence),
      event.prevHash,
      event.hash,
    ],
  );
  await tx.query('UPDATE audit_head SET seq = $1, hash = $2', [event.seq, event.hash]);
  return event;
}

/** The events about one subject, oldest first. */
export async function auditEventsFor(db: Queryable, subject: string): Promise<AuditEvent[]> {
  const { rows } = await db.query<AuditRow>('SELECT * FROM audit_events WHERE subject = $1 ORDER BY seq', [subject]);
  return rows.map(fromRow);
}

/** Every event at or after an instant, oldest first (`at` is ISO 8601 UTC, so text order is time order). */
export async function auditEventsSince(db: Queryable, since: string, limit?: number): Promise<AuditEvent[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT * FROM audit_events WHERE at >= $1 ORDER BY seq${limit === undefined ? '' : ' LIMIT $2'}`,
    limit === undefined ? [since] : [since, limit],
  );
  return rows.map(fromRow);
}

export type AuditReport =
  | { readonly ok: true; readonly verified: number; readonly head: string }
  | { readonly ok: false; readonly verified: number; readonly seq: number; readonly message: string };

/** Walks the audit chain and reports the first event missing, out of order, altered or removed. */
export async function verifyAuditChain(db: Database): Promise<AuditReport> {
  let expected = 1;
  let prevHash = GENESIS_HASH;
  const PAGE = 1000;
  for (;;) {
    const { rows } = await db.query<AuditRow>('SELECT * FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT $2', [
      expected,
      PAGE,
    ]);
    for (const row of rows) {
      const event = fromRow(row);
      const verified = expected - 1;
      if (event.seq !== expected)
        return {
          ok: false,
          verified,
          seq: expected,
          message: `audit event ${expected} is missing: the chain goes from ${expected - 1} to ${event.seq}`,
        };
      if (event.prevHash !== prevHash)
        return {
          ok: false,
          verified,
          seq: event.seq,
          message: `audit event ${event.seq} does not follow event ${event.seq - 1}: events were reordered, removed or replaced`,
        };
      if (eventHash(event) !== event.hash)
        return {
          ok: false,
          verified,
          seq: event.seq,
          message: `audit event ${event.seq} was altered: its content no longer matches its hash`,
        };
      prevHash = event.hash;
      expected += 1;
    }
    if (rows.length < PAGE) break;
  }
  const verified = expected - 1;
  const { rows } = await db.query<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head');
  const head = rows[0];
  if (!head || Number(head.seq) !== verified || head.hash !== prevHash) {
    return {
      ok: false,
      verified,
      seq: verified + 1,
      message: `the audit chain ends at event ${verified} but its head names event ${head?.seq ?? 'none'}: events at the end were removed or the head was altered`,
    };
  }
  const counted = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
  if (Number(counted.rows[0]?.n ?? 0) !== verified)
    return { ok: false, verified, seq: 0, message: 'audit events were inserted outside the chain' };
  return { ok: true, verified, head: prevHash };
}

/** A number that changes whenever anything audited changes (every release step and flag change is): what instances poll to follow the database. */
export async function changeMark(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ seq: number }>('SELECT seq FROM audit_head');
  return Number(rows[0]?.seq ?? 0);
}

/**
 * Rebuilds the audit log's tree from the events themselves and checks it against every signed
 * checkpoint of the audit log, in the database and outside it: removing the newest events and
 * rewinding the head, which the chain alone cannot see, leaves a checkpoint larger than the log.
 */
export async function verifyAuditLog(
  db: Database,
  options: { readonly verifier: Verifiers; readonly checkpoints?: readonly ExternalCheckpoint[] },
): Promise<LogReport> {
  const source = async (from: number, limit: number): Promise<LeafCheck[]> => {
    const { rows } = await db.query<AuditRow & { leaf_index: string | number; leaf: string; ref: string }>(
      `SELECT e.leaf_index, e.leaf, e.ref, a.* FROM log_entries e LEFT JOIN audit_events a ON a.id = e.ref
       WHERE e.log = 'audit' AND e.leaf_index >= $1 ORDER BY e.leaf_index LIMIT $2`,
      [from, limit],
    );
    return rows.map((row) => {
      const leafIndex = Number(row.leaf_index);
      if (row.id === null)
        return { leafIndex, leaf: row.leaf, problem: `audit event ${row.ref} (leaf ${leafIndex}) was deleted` };
      const event = fromRow(row);
      const altered = eventHash(event) !== event.hash || event.hash !== row.leaf;
      return {
        leafIndex,
        leaf: row.leaf,
        problem: altered
          ? `audit event ${event.seq} (leaf ${leafIndex}) was altered: it no longer matches its leaf`
          : undefined,
      };
    });
  };
  return verifyLog(db, 'audit', source, { verifier: options.verifier, external: options.checkpoints ?? [] });
}
