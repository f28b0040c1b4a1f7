import {
  inclusionProofAt,
  latestCheckpoint,
  leafHash,
  NoteError,
  openCheckpoint,
  openStored,
  placementOf,
  verifyInclusion,
  type StoredCheckpoint,
  ringName,
  type Verifiers,
} from '../log/index.ts';
import type { Queryable } from '../store/index.ts';
import { recordProblem } from './verify.ts';
import { canonicalJson, digestInputs, hashedContent, sha256, type DecisionRecord } from './record.ts';

export const RECEIPT_FORMAT = 'entitle-receipt/1';

/**
 * Proof that a decision is in the record exactly as issued, checkable by anyone with the log's
 * verifier key and nothing else: no database, no service, no network.
 *
 * - `decision` is exactly what the record hash covers (inputs only through their digest);
 * - `recordHash` is SHA-256 of its RFC 8785 canonical JSON, and is the data of the log's leaf;
 * - `proof` leads from that leaf (SHA-256 of 0x00 and the record hash's text) to the root of the
 *   signed `checkpoint`, by RFC 9162's algorithm.
 */
export interface Receipt {
  readonly format: typeof RECEIPT_FORMAT;
  readonly decision: Record<string, unknown>;
  readonly recordHash: string;
  readonly leafIndex: number;
  readonly treeSize: number;
  /** Base64 hashes of the inclusion proof. */
  readonly proof: readonly string[];
  /** The signed checkpoint (c2sp.org/tlog-checkpoint) the proof leads to. */
  readonly checkpoint: string;
  /** The answers the decision was made on, while they are kept: their digest is in `decision`. */
  readonly inputs?: unknown;
}

export type ReceiptResult =
  | { readonly state: 'ready'; readonly receipt: Receipt }
  | { readonly state: 'pending' }
  | { readonly state: 'altered'; readonly message: string };

/**
 * The receipt of a stored decision against the newest checkpoint, after checking the decision
 * still gives its leaf and its leaf is still in the signed tree: a receipt is never made for an
 * altered record.
 */
export async function receiptFor(db: Queryable, record: DecisionRecord, verifier: Verifiers): Promise<ReceiptResult> {
  const check = await checkAgainstLog(db, record, verifier);
  if (check.state !== 'proven') return check;
  const receipt: Receipt = {
    format: RECEIPT_FORMAT,
    decision: hashedContent(record),
    recordHash: record.recordHash,
    leafIndex: check.leafIndex,
    treeSize: check.checkpoint.size,
    proof: check.proof.map((h) => h.toString('base64')),
    checkpoint: check.checkpoint.note,
    ...(record.inputs !== null ? { inputs: record.inputs } : {}),
  };
  return { state: 'ready', receipt };
}

export type LogCheck =
  | {
      readonly state: 'proven';
      readonly leafIndex: number;
      readonly checkpoint: StoredCheckpoint;
      readonly proof: Buffer[];
    }
  | { readonly state: 'pending' }
  | { readonly state: 'altered'; readonly message: string };

/**
 * Checks a stored decision against the log: its content gives its record hash, that hash is its
 * leaf, and the leaf's inclusion proof leads to the newest signed checkpoint. A decision not yet
 * placed is checked against its queued leaf and is `pending`.
 */
export async function checkAgainstLog(db: Queryable, record: DecisionRecord, verifier: Verifiers): Promise<LogCheck> {
  const altered = (message: string) => ({ state: 'altered' as const, message });
  const problem = recordProblem(record);
  if (problem) return altered(problem);
  const placement = await placementOf(db, 'decisions', record.id);
  if (placement.leaf !== undefined && placement.leaf !== record.recordHash)
    return altered(`decision ${record.id} no longer matches its leaf in the log`);
  if (!placement.placed)
    return placement.leaf === undefined ? altered(`decision ${record.id} is not in the log`) : { state: 'pending' };
  const checkpoint = await latestCheckpoint(db, 'decisions');
  if (!checkpoint || checkpoint.size <= placement.leafIndex) return { state: 'pending' };
  try {
    openStored(checkpoint, verifier);
  } catch (error) {
    return altered(`the newest checkpoint fails its signature: ${(error as Error).message}`);
  }
  const proof = await inclusionProofAt(db, 'decisions', placement.leafIndex, checkpoint.size).catch(
    (error: Error) => error,
  );
  if (proof instanceof Error) return altered(`the log cannot prove leaf ${placement.leafIndex}: ${proof.message}`);
  if (!verifyInclusion(placement.leafIndex, checkpoint.size, leafHash(record.recordHash), proof, checkpoint.root))
    return altered(
      `leaf ${placement.leafIndex} (decision ${record.id}) is not in the signed tree: the log was altered`,
    );
  return { state: 'proven', leafIndex: placement.leafIndex, checkpoint, proof };
}

/** What an offline check of a receipt found: every failure, named. */
export interface ReceiptCheck {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly decisionId?: string;
  readonly leafIndex?: number;
  readonly treeSize?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a receipt offline with the log's verifier key. */
export function verifyReceipt(input: unknown, verifier: Verifiers): ReceiptCheck {
  if (!isRecord(input) || input.format !== RECEIPT_FORMAT)
    return { ok: false, problems: [`this is not a receipt: its "format" is not "${RECEIPT_FORMAT}"`] };
  const problems: string[] = [];
  const { decision, recordHash, leafIndex, treeSize, proof, checkpoint } = input;
  if (!isRecord(decision)) problems.push('"decision" is missing or not an object');
  if (typeof recordHash !== 'string') problems.push('"recordHash" is missing');
  if (!Number.isSafeInteger(leafIndex)) problems.push('"leafIndex" is not a whole number');
  if (!Number.isSafeInteger(treeSize)) problems.push('"treeSize" is not a whole number');
  if (!Array.isArray(proof) || !proof.every((p) => typeof p === 'string' && Buffer.from(p, 'base64').length === 32))
    problems.push('"proof" is not a list of base64 SHA-256 hashes');
  if (typeof checkpoint !== 'string') problems.push('"checkpoint" is missing');
  if (problems.length > 0) return { ok: false, problems };
  const d = decision as Record<string, unknown>;
  const base = { decisionId: String(d.id), leafIndex: leafIndex as number, treeSize: treeSize as number };

  let signed;
  try {
    signed = openCheckpoint(checkpoint as string, verifier, `${ringName(verifier)}/decisions`);
  } catch (error) {
    if (!(error instanceof NoteError)) throw error;
    problems.push(`"checkpoint" cannot be trusted: ${error.message}`);
  }
  if (signed && signed.size !== treeSize)
    problems.push(`"treeSize" says ${String(treeSize)} but the signed checkpoint is of ${signed.size} leaves`);
  const computed = sha256(canonicalJson(d));
  if (computed !== recordHash) problems.push('"decision" was altered: its content no longer gives "recordHash"');
  if ('inputs' in input && digestInputs(input.inputs) !== d.inputsDigest)
    problems.push('"inputs" were altered: they no longer give the decision\'s "inputsDigest"');
  if (signed) {
    const hashes = (proof as string[]).map((p) => Buffer.from(p, 'base64'));
    if (!verifyInclusion(leafIndex as number, signed.size, leafHash(recordHash as string), hashes, signed.root))
      problems.push(
        `the inclusion proof does not lead from leaf ${String(leafIndex)} to the signed root: "recordHash", "leafIndex" or "proof" was altered`,
      );
  }
  return { ok: problems.length === 0, problems, ...base };
}
