import { hashBundle, type RuleSetBundle } from '../rules/index.ts';
import type { Database } from '../store/index.ts';
import { digestInputs, fromRow, GENESIS_HASH, recordHash, type DecisionRecord, type DecisionRow } from './record.ts';

export interface ChainProblem {
  readonly seq: number;
  readonly id?: string;
  readonly message: string;
}

export type ChainReport =
  | { readonly ok: true; readonly verified: number; readonly head: string }
  | { readonly ok: false; readonly verified: number; readonly problem: ChainProblem };

const PAGE = 1000;

/** One record checked against its place in the chain: in order, linked, unaltered, inputs intact. */
export function checkLink(record: DecisionRecord, expectedSeq: number, prevHash: string): ChainProblem | undefined {
  if (record.seq !== expectedSeq)
    return {
      seq: expectedSeq,
      message: `record ${expectedSeq} is missing: the chain goes from ${expectedSeq - 1} to ${record.seq}`,
    };
  if (record.prevHash !== prevHash)
    return {
      seq: record.seq,
      id: record.id,
      message: `record ${record.seq} does not follow record ${record.seq - 1}: records were reordered, removed or replaced`,
    };
  if (recordHash(record) !== record.recordHash)
    return {
      seq: record.seq,
      id: record.id,
      message: `record ${record.seq} was altered: its content no longer matches its hash`,
    };
  if (record.inputs !== null && digestInputs(record.inputs) !== record.inputsDigest) {
    return {
      seq: record.seq,
      id: record.id,
      message: `the inputs of record ${record.seq} were altered: they no longer match their digest`,
    };
  }
  return undefined;
}

/**
 * Walks the whole chain in order and reports the first record that is missing, out of order,
 * altered (its hash no longer matches its content, or its inputs no longer match their digest),
 * or removed from the end (the chain head says more records exist than are found).
 */
export async function verifyChain(db: Database): Promise<ChainReport> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let verified = 0;
  const fail = (problem: ChainProblem): ChainReport => ({ ok: false, verified, problem });
  for (;;) {
    const { rows } = await db.query<DecisionRow>('SELECT * FROM decisions WHERE seq >= $1 ORDER BY seq LIMIT $2', [
      expectedSeq,
      PAGE,
    ]);
    for (const row of rows) {
      const record = fromRow(row);
      const problem = checkLink(record, expectedSeq, prevHash);
      if (problem) return fail(problem);
      prevHash = record.recordHash;
      expectedSeq += 1;
      verified += 1;
    }
    if (rows.length < PAGE) break;
  }
  const { rows } = await db.query<{ seq: number; hash: string }>('SELECT seq, hash FROM chain_head');
  const head = rows[0];
  if (!head || Number(head.seq) !== verified || head.hash !== prevHash) {
    return fail({
      seq: verified + 1,
      message: `the chain ends at record ${verified} but its head names record ${head?.seq ?? 'none'}: records at the end were removed or the head was altered`,
    });
  }
  // Every row must be in the chain: a row outside it (inserted with a seq of 0 or less, around
  // the constraint) would be served like a decision without ever being verified.
  const counted = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM decisions');
  const total = Number(counted.rows[0]?.n ?? 0);
  if (total !== verified) {
    return fail({
      seq: 0,
      message: `${total - verified} decision row${total - verified === 1 ? ' is' : 's are'} outside the chain: rows were inserted around it`,
    });
  }
  // The rules each decision names must still be the rules stored under that name.
  const bundles = await db.query<{ hash: string; bundle: RuleSetBundle }>(
    'SELECT hash, bundle FROM ruleset_versions ORDER BY hash',
  );
  for (const row of bundles.rows) {
    if (hashBundle(row.bundle) !== row.hash) {
      return fail({
        seq: 0,
        message: `the stored rule-set version ${row.hash} was altered: its content no longer matches its hash`,
      });
    }
  }
  return { ok: true, verified, head: prevHash };
}
