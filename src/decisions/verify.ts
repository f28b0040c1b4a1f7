import { verifyLog, type ExternalCheckpoint, type LeafCheck, type Verifiers } from '../log/index.ts';
import { hashBundle, type RuleSetBundle } from '../rules/index.ts';
import type { Database, Queryable } from '../store/index.ts';
import {
  digestInputs,
  fromRow,
  GENESIS_HASH,
  recordHash,
  releaseColumnMatches,
  type DecisionRecord,
  type DecisionRow,
} from './record.ts';

export interface ChainProblem {
  readonly seq: number;
  readonly id?: string;
  readonly message: string;
}

export type ChainReport =
  | { readonly ok: true; readonly verified: number; readonly head: string; readonly checkpoints: number }
  | {
      readonly ok: false;
      readonly verified: number;
      readonly problem: ChainProblem;
      readonly missing?: { readonly from: number; readonly to: number };
    };

/**
 * What is wrong with a stored decision, if anything: its content must still give its hash, its
 * inputs their digest, and its release column the release its hashed assignment names.
 */
export function recordProblem(record: DecisionRecord, leaf?: string): string | undefined {
  const hash = recordHash(record);
  if (hash !== record.recordHash || (leaf !== undefined && hash !== leaf))
    return `decision ${record.id} was altered: its content no longer matches its hash`;
  if (record.inputs !== null && digestInputs(record.inputs) !== record.inputsDigest)
    return `the inputs of decision ${record.id} were altered: they no longer match their digest`;
  if (!releaseColumnMatches(record))
    return `the release column of decision ${record.id} was altered: it no longer names the release its record does`;
  return undefined;
}

/**
 * The old chain, for decisions made before the log: each such record names the one before it
 * and its own place. They are the first leaves of the log, and the previous release may still add
 * some during a rolling deploy, so they are followed through the log in its order.
 */
class OldChain {
  seq = 0;
  hash = GENESIS_HASH;

  problem(record: DecisionRecord): string | undefined {
    if (record.prevHash === null) return undefined;
    if (record.seq !== this.seq + 1 || record.prevHash !== this.hash)
      return `decision ${record.id} (record ${record.seq} of the chain made before the log) does not follow record ${this.seq}: records were reordered, removed or replaced`;
    this.seq = record.seq;
    this.hash = record.recordHash;
    return undefined;
  }
}

/** A leaf of the decision log with the decision row it names (null columns when that row is gone). */
export type PlacedDecision = DecisionRow & { leaf_index: string | number; leaf: string; ref: string };

/** The leaves from `from` and below `below`, in order, at most `limit`, each with its decision. */
export async function placedDecisions(
  db: Queryable,
  from: number,
  below: number,
  limit: number,
): Promise<PlacedDecision[]> {
  const { rows } = await db.query<PlacedDecision>(
    `SELECT e.leaf_index, e.leaf, e.ref, d.* FROM log_entries e LEFT JOIN decisions d ON d.id = e.ref
     WHERE e.log = 'decisions' AND e.leaf_index >= $1 AND e.leaf_index < $2 ORDER BY e.leaf_index LIMIT $3`,
    [from, below, limit],
  );
  return rows;
}

export interface VerifyOptions {
  /** The log's verifier key: checkpoints are trusted only with its signature. */
  readonly verifier: Verifiers;
  /** Checkpoints kept outside the database that the log must still extend. */
  readonly checkpoints?: readonly ExternalCheckpoint[];
}

/**
 * Verifies the record of decisions: rebuilds the log's tree from the decisions themselves and
 * checks it against every signed checkpoint, in the database and outside it; follows the chain
 * made before the log to its head; finds any decision outside the log; and checks each stored
 * rule-set version still hashes to its name.
 */
export async function verifyChain(database: Database, options: VerifyOptions): Promise<ChainReport> {
  // One snapshot for the whole check: the sequencer placing leaves meanwhile cannot make a row
  // look outside the log, nor old writers move the old chain's head.
  return database.transaction(
    async (db) => {
      await db.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      return verifyIn(db, options);
    },
    { deadlineMs: 0 },
  );
}

async function verifyIn(db: Queryable, options: VerifyOptions): Promise<ChainReport> {
  const chain = new OldChain();
  let verified = 0;
  const source = async (from: number, limit: number): Promise<LeafCheck[]> => {
    const rows = await placedDecisions(db, from, Number.MAX_SAFE_INTEGER, limit);
    const checked: LeafCheck[] = [];
    for (const row of rows) {
      const leafIndex = Number(row.leaf_index);
      const problem =
        row.id === null
          ? `decision ${row.ref} was deleted`
          : (recordProblem(fromRow(row), row.leaf) ?? chain.problem(fromRow(row)));
      checked.push({ leafIndex, leaf: row.leaf, problem: problem && `${problem} (leaf ${leafIndex})` });
      if (problem) break; // the first problem ends the walk
      verified += 1;
    }
    return checked;
  };
  const fail = (message: string, id?: string): ChainReport => ({
    ok: false,
    verified,
    problem: { seq: verified + 1, message, ...(id ? { id } : {}) },
  });
  const log = await verifyLog(db, 'decisions', source, {
    verifier: options.verifier,
    external: options.checkpoints ?? [],
  });
  if (!log.ok) return { ...fail(log.problem), ...(log.missing ? { missing: log.missing } : {}) };

  const { rows } = await db.query<{ seq: number; hash: string }>('SELECT seq, hash FROM chain_head');
  const head = rows[0];
  if (!head || Number(head.seq) !== chain.seq || head.hash !== chain.hash)
    return fail(
      `the chain made before the log ends at record ${chain.seq} but its head names record ${head?.seq ?? 'none'}: records at its end were removed or the head was altered`,
    );
  // Every decision is in the log or waiting for the sequencer, each once: a row inserted around
  // both would be served like a decision without ever being verified.
  const { rows: around } = await db.query<{ outside: number; lost: number; twice: number }>(
    `SELECT
       (SELECT count(*)::int FROM decisions d
         WHERE NOT EXISTS (SELECT 1 FROM log_entries e WHERE e.log = 'decisions' AND e.ref = d.id)
           AND NOT EXISTS (SELECT 1 FROM log_queue q WHERE q.log = 'decisions' AND q.ref = d.id)) AS outside,
       (SELECT count(*)::int FROM log_queue q WHERE q.log = 'decisions'
         AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.id = q.ref)) AS lost,
       (SELECT count(*)::int FROM log_queue q WHERE q.log = 'decisions'
         AND EXISTS (SELECT 1 FROM log_entries e WHERE e.log = 'decisions' AND e.ref = q.ref)) AS twice`,
  );
  const { outside = 0, lost = 0, twice = 0 } = around[0] ?? {};
  const some = (n: number, what: string) => `${n} decision row${n === 1 ? ' is' : 's are'} ${what}`;
  if (outside > 0) return fail(some(outside, 'outside the log: rows were inserted around it'));
  if (lost > 0) return fail(some(lost, 'waiting for the log but deleted'));
  if (twice > 0) return fail(some(twice, 'queued for the log again though already in it: the queue was altered'));
  // The rules each decision names must still be the rules stored under that name.
  const bundles = await db.query<{ hash: string; bundle: RuleSetBundle }>(
    'SELECT hash, bundle FROM ruleset_versions ORDER BY hash',
  );
  for (const row of bundles.rows)
    if (hashBundle(row.bundle) !== row.hash)
      return fail(`the stored rule-set version ${row.hash} was altered: its content no longer matches its hash`);
  return { ok: true, verified, head: log.root.toString('base64'), checkpoints: log.checkpoints };
}
