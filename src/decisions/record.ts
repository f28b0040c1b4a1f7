import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { v7 as uuidv7 } from 'uuid';
import type { Assessment } from '../rules/index.ts';

// See src/rules/format/bundle.ts: the package's declared default export is the function itself.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/** The hash before the first record of the old chain. */
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

/** The draft of the decision an assessment makes from `inputs`, with a new id (UUIDv7, in time order). */
export function draftOf(assessment: Assessment, inputs: unknown, assignment?: Assignment): DecisionDraft {
  return {
    id: uuidv7(),
    benefit: assessment.benefit,
    applicationId: assessment.applicationId,
    assessmentDate: assessment.assessmentDate,
    ruleset: assessment.ruleset,
    engineVersion: assessment.engine.version,
    inputs,
    outcome: assessment.outcome,
    explanation: assessment.explanation,
    ...(assignment ? { assignment } : {}),
  };
}

/** How an application was assigned to the version that decided it. */
export interface Assignment {
  /** The release that decided; null for a version in service before any release was made. */
  readonly releaseId: string | null;
  /** 0 to 9,999: the application's place in the canary order (a stable hash of its reference). */
  readonly bucket?: number;
  readonly reason: string;
}

/** A decision as stored: the draft, its storage number, and its hashes. */
export interface DecisionRecord extends DecisionDraft {
  /**
   * The storage number. For decisions made before the verifiable log, also the place in the old
   * hash chain (1, 2, 3, ...); decisions recorded into the log are numbered -1, -2, -3, ... and
   * their place is their leaf index.
   */
  readonly seq: number;
  /** Null once the inputs were removed under the retention policy. */
  readonly inputs: unknown;
  readonly inputsDigest: string;
  readonly createdAt: string;
  readonly purgedAt: string | null;
  /** The record before this one in the old hash chain; null for decisions recorded into the log. */
  readonly prevHash: string | null;
  /** The record's hash: the data of its leaf in the log. */
  readonly recordHash: string;
  /** The release named by the row's own column, which the remediation worklist selects on. */
  readonly releaseId?: string | null;
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

type Hashed = Omit<DecisionRecord, 'recordHash' | 'inputs' | 'purgedAt' | 'releaseId'>;

/**
 * What a decision's hash covers, as one JSON object: every field of the decision, the inputs only
 * through their digest (so the inputs can be removed under the retention policy and the record
 * still verifies), and the assignment to a release when there is one. A decision recorded into
 * the log is linked by the tree, so its object has no place number; one made before the log also
 * holds its place in the old chain and the hash of the record before it, as it always did.
 */
export function hashedContent(record: Hashed): Record<string, unknown> {
  return {
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
    ...(record.prevHash !== null ? { seq: record.seq, prevHash: record.prevHash } : {}),
    // Only when present, so records made before releases existed keep their hashes.
    ...(record.assignment ? { assignment: record.assignment } : {}),
  };
}

/** The record's hash: SHA-256 of the canonical JSON of what it covers (hashedContent). */
export function recordHash(record: Hashed): string {
  return sha256(canonicalJson(hashedContent(record)));
}

/**
 * The release a decision's row names outside its hash (the release_id column, which the
 * remediation worklist selects on) must be the release its hashed assignment names.
 */
export function releaseColumnMatches(record: DecisionRecord): boolean {
  return record.releaseId === undefined || (record.releaseId ?? null) === (record.assignment?.releaseId ?? null);
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
  prev_hash: string | null;
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
    releaseId: row.release_id ?? null,
    ...(row.assignment ? { assignment: row.assignment } : {}),
  };
}
