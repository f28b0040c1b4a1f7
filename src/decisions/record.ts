import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// See src/rules/format/bundle.ts: the package's declared default export is the function itself.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

export const GENESIS_HASH = `sha256:${'0'.repeat(64)}`;

/** What an assessment adds to the record before it joins the chain. */
export interface DecisionDraft {
  readonly id: string;
  readonly benefit: string;
  readonly applicationId: string;
  readonly assessmentDate: string;
  readonly ruleset: { readonly id: string; readonly hash: string };
  readonly engineVersion: string;
  readonly inputs: unknown;
  readonly outcome: unknown;
  readonly explanation: readonly string[];
  /**
   * Which release decided and why this application went to it (a canary's bucket, say). Absent
   * for decisions by the rule set the service first started with.
   */
  readonly assignment?: Assignment | null;
}

/** How an application was assigned to the version that decided it. */
export interface Assignment {
  /** The release that decided; null for a version in service before any release was made. */
  readonly releaseId: string | null;
  /** 0 to 9,999: the application's place in the canary order (a stable hash of its reference). */
  readonly bucket?: number;
  readonly reason: string;
}

/** A decision as stored: the draft, its place in the chain, and its hashes. */
export interface DecisionRecord extends DecisionDraft {
  readonly seq: number;
  /** Null once the inputs were removed under the retention policy. */
  readonly inputs: unknown;
  readonly inputsDigest: string;
  readonly createdAt: string;
  readonly purgedAt: string | null;
  readonly prevHash: string;
  readonly recordHash: string;
}

export function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** RFC 8785 canonical JSON: the same value always gives the same text, whatever its key order. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('value has no JSON form');
  return text;
}

export function digestInputs(inputs: unknown): string {
  return sha256(canonicalJson(inputs));
}

/**
 * The hash that links a record into the chain. It covers every field of the decision and the
 * previous record's hash, but the inputs only through their digest: the inputs can be removed
 * under the retention policy and the chain still verifies.
 */
export function recordHash(record: Omit<DecisionRecord, 'recordHash' | 'inputs' | 'purgedAt'>): string {
  return sha256(
    canonicalJson({
      seq: record.seq,
      id: record.id,
      benefit: record.benefit,
      applicationId: record.applicationId,
      assessmentDate: record.assessmentDate,
      ruleset: { id: record.ruleset.id, hash: record.ruleset.hash },
      engineVersion: record.engineVersion,
      inputsDigest: record.inputsDigest,
      outcome: record.outcome,
      explanation: record.explanation,
      createdAt: record.createdAt,
      prevHash: record.prevHash,
      // Only when present, so records made before releases existed keep their hashes.
      ...(record.assignment ? { assignment: record.assignment } : {}),
    }),
  );
}

/**
 * The record hash in two steps, so the slow part runs before a write joins the queue. RFC 8785
 * sorts keys, and `prevHash`, `ruleset` and `seq` sort after every other key of the record, so
 * the canonical text is the canonical text of the rest without its closing brace, followed by
 * those three. Only they are added inside the transaction that holds the chain head. A test
 * checks the result equals `recordHash`.
 */
export function recordHashPrefix(
  record: Omit<DecisionRecord, 'recordHash' | 'inputs' | 'purgedAt' | 'seq' | 'prevHash'>,
): { prefix: string; ruleset: string } {
  const rest = canonicalJson({
    id: record.id,
    benefit: record.benefit,
    applicationId: record.applicationId,
    assessmentDate: record.assessmentDate,
    engineVersion: record.engineVersion,
    inputsDigest: record.inputsDigest,
    outcome: record.outcome,
    explanation: record.explanation,
    createdAt: record.createdAt,
    ...(record.assignment ? { assignment: record.assignment } : {}),
  });
  return { prefix: rest.slice(0, -1), ruleset: canonicalJson({ id: record.ruleset.id, hash: record.ruleset.hash }) };
}

export function recordHashFrom(prepared: { prefix: string; ruleset: string }, seq: number, prevHash: string): string {
  return sha256(
    `${prepared.prefix},"prevHash":${JSON.stringify(prevHash)},"ruleset":${prepared.ruleset},"seq":${seq}}`,
  );
}

/** A row of the decisions table, as both drivers return it. */
export interface DecisionRow {
  seq: number;
  id: string;
  benefit: string;
  application_id: string;
  assessment_date: string;
  ruleset_id: string;
  ruleset_hash: string;
  engine_version: string;
  inputs: unknown;
  inputs_digest: string;
  outcome: unknown;
  explanation: string[];
  created_at: string;
  purged_at: string | null;
  prev_hash: string;
  record_hash: string;
  release_id?: string | null;
  assignment?: Assignment | null;
}

export function fromRow(row: DecisionRow): DecisionRecord {
  return {
    seq: Number(row.seq),
    id: row.id,
    benefit: row.benefit,
    applicationId: row.application_id,
    assessmentDate: row.assessment_date,
    ruleset: { id: row.ruleset_id, hash: row.ruleset_hash },
    engineVersion: row.engine_version,
    inputs: row.inputs,
    inputsDigest: row.inputs_digest,
    outcome: row.outcome,
    explanation: row.explanation,
    createdAt: row.created_at,
    purgedAt: row.purged_at,
    prevHash: row.prev_hash,
    recordHash: row.record_hash,
    ...(row.assignment ? { assignment: row.assignment } : {}),
  };
}
