import type { Database, Queryable } from '../store/index.ts';
import { openCheckpoint, parseCheckpointText, signCheckpoint, type Checkpoint } from './checkpoint.ts';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  nodesRead,
  rootAt,
  TreeEdge,
  type Hash,
  type NodeAddress,
  type NodeReader,
} from './merkle.ts';
import { openNote, ringName, ringOf, type SignerKey, type Verifiers, type VerifierKey } from './note.ts';

/** The two logs: one leaf per decision, one per operational audit event. */
export const LOGS = ['decisions', 'audit'] as const;
export type LogName = (typeof LOGS)[number];

/** The origin line of a log's checkpoints: the log's name under the service's origin. */
export function logOrigin(origin: string, log: LogName): string {
  return `${origin}/${log}`;
}

export interface StoredCheckpoint extends Checkpoint {
  readonly log: LogName;
  /** The signed note, exactly as signed. */
  readonly note: string;
  readonly madeAt: string;
}

/** A log's newest checkpoint, or undefined before its first leaf. */
export async function latestCheckpoint(db: Queryable, log: LogName): Promise<StoredCheckpoint | undefined> {
  const { rows } = await db.query<{ note: string; made_at: string }>(
    'SELECT note, made_at FROM log_checkpoints WHERE log = $1 ORDER BY size DESC LIMIT 1',
    [log],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    ...parseCheckpointText(row.note.slice(0, row.note.indexOf('\n\n') + 1)),
    log,
    note: row.note,
    madeAt: row.made_at,
  };
}

/** The log's checkpoints as stored in the database, oldest first. */
export async function storedCheckpoints(db: Queryable, log: LogName): Promise<StoredCheckpoint[]> {
  const { rows } = await db.query<{ note: string; made_at: string }>(
    'SELECT note, made_at FROM log_checkpoints WHERE log = $1 ORDER BY size',
    [log],
  );
  return rows.map((row) => ({
    ...parseCheckpointText(row.note.slice(0, row.note.indexOf('\n\n') + 1)),
    log,
    note: row.note,
    madeAt: row.made_at,
  }));
}

/**
 * Reads the perfect subtrees a computation needs (leaf hashes from the entries, larger subtrees
 * from the stored nodes, one query each), then runs it with them.
 */
async function withNodes<T>(db: Queryable, log: LogName, compute: (node: NodeReader) => T): Promise<T> {
  const wanted = nodesRead(compute);
  const hashes = new Map<string, Hash>();
  const leaves = wanted.filter((a) => a.level === 0);
  const inner = wanted.filter((a) => a.level > 0);
  if (leaves.length > 0) {
    const { rows } = await db.query<{ leaf_index: string | number; leaf: string }>(
      'SELECT leaf_index, leaf FROM log_entries WHERE log = $1 AND leaf_index = ANY($2::bigint[])',
      [log, leaves.map((a) => a.index)],
    );
    for (const row of rows) hashes.set(`0/${Number(row.leaf_index)}`, leafHash(row.leaf));
  }
  if (inner.length > 0) {
    const { rows } = await db.query<{ level: number; idx: string | number; hash: string }>(
      `SELECT n.level, n.idx, n.hash FROM log_nodes n
       JOIN unnest($2::smallint[], $3::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx
       WHERE n.log = $1`,
      [log, inner.map((a) => a.level), inner.map((a) => a.index)],
    );
    for (const row of rows) hashes.set(`${row.level}/${Number(row.idx)}`, Buffer.from(row.hash, 'hex'));
  }
  return compute((address: NodeAddress) => {
    const hash = hashes.get(`${address.level}/${address.index}`);
    if (!hash) throw new LogIntegrityError(`the log's node ${address.level}/${address.index} is missing`);
    return hash;
  });
}

/** The stored log does not hold together: a node is missing, or the tree no longer gives its signed root. */
export class LogIntegrityError extends Error {}

export interface Integrated {
  readonly log: LogName;
  readonly added: number;
  readonly checkpoint: StoredCheckpoint;
}

// Any fixed number: only one instance integrates a log at a time; the others skip that round.
const SEQUENCER_LOCK: Record<LogName, number> = { decisions: 7_346_101, audit: 7_346_102 };

/**
 * Gives queued leaves their places and signs a checkpoint for the new tree: what Trillian's
 * sequencer does. Writers never wait for this; it runs every second or so on whichever instance
 * takes the log's lock. Before adding anything it checks the stored edge of the tree still gives
 * the newest signed root, so a tree altered underneath is never built upon.
 */
/**
 * The keys that sign each new checkpoint (all of them), and those whose signature is accepted on
 * earlier ones when they are verified (the signers' and retired keys'). Only a signer's signature
 * lets the sequencer build on a checkpoint: a retired key, perhaps retired because it leaked,
 * never gets a tree extended or countersigned.
 */
export interface LogKeys {
  readonly signers: readonly SignerKey[];
  readonly verifiers: readonly VerifierKey[];
}

const signedBy = (note: string, verifier: VerifierKey) => {
  try {
    openNote(note, verifier);
    return true;
  } catch {
    return false;
  }
};

export async function integrate(
  db: Database,
  log: LogName,
  keys: SignerKey | LogKeys,
  origin: string,
  maxLeaves = 10_000,
): Promise<Integrated | undefined> {
  const signers = 'signers' in keys ? keys.signers : ringOf(keys);
  const current = signers.map((s) => s.verifier);
  return db.transaction(
    async (tx) => {
      const { rows: locks } = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [
        SEQUENCER_LOCK[log],
      ]);
      if (!locks[0]?.locked) return undefined;
      const { rows: queued } = await tx.query<{ queued: string | number; ref: string; leaf: string }>(
        'SELECT queued, ref, leaf FROM log_queue WHERE log = $1 ORDER BY queued LIMIT $2',
        [log, maxLeaves],
      );
      // While keys rotate (a ring of signers), nothing queued is no reason to wait: see cosign.
      if (queued.length === 0 && signers.length < 2) return undefined;
      const latest = await latestCheckpoint(tx, log);
      if (latest) {
        // Only a tree a current key signed is built upon: a checkpoint row rewritten in the
        // database (another key, another origin) is never extended, and never signed over.
        try {
          openCheckpoint(latest.note, current, logOrigin(origin, log));
        } catch (error) {
          throw new LogIntegrityError(
            `the newest stored checkpoint of the ${log} log does not carry this key's signature: ${(error as Error).message}`,
          );
        }
      }
      if (queued.length === 0) return latest ? cosign(tx, log, latest, signers) : undefined;
      const size = latest?.size ?? 0;
      const edge = size === 0 ? TreeEdge.empty() : await withNodes(tx, log, (node) => TreeEdge.at(size, node));
      if (latest && !edge.root().equals(latest.root))
        throw new LogIntegrityError(
          `the stored tree of ${size} leaves no longer gives the root its checkpoint signed: run "entitle audit verify"`,
        );
      const nodes: { level: number; index: number; hash: string }[] = [];
      // Leaf hashes are not stored twice: the entries hold their data.
      for (const entry of queued)
        for (const made of edge.append(leafHash(entry.leaf)))
          if (made.address.level > 0)
            nodes.push({ level: made.address.level, index: made.address.index, hash: made.hash.toString('hex') });
      await tx.query(
        `INSERT INTO log_entries (log, leaf_index, ref, leaf)
       SELECT $1, * FROM unnest($2::bigint[], $3::uuid[], $4::text[])`,
        [log, queued.map((_, i) => size + i), queued.map((q) => q.ref), queued.map((q) => q.leaf)],
      );
      await tx.query(
        `INSERT INTO log_nodes (log, level, idx, hash) SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::text[])`,
        [log, nodes.map((n) => n.level), nodes.map((n) => n.index), nodes.map((n) => n.hash)],
      );
      await tx.query('DELETE FROM log_queue WHERE queued = ANY($1::bigint[])', [queued.map((q) => q.queued)]);
      const checkpoint = { origin: logOrigin(origin, log), size: edge.treeSize, root: edge.root() };
      const note = signCheckpoint(checkpoint, signers);
      const madeAt = new Date().toISOString();
      await tx.query('INSERT INTO log_checkpoints (log, size, root, note, made_at) VALUES ($1, $2, $3, $4, $5)', [
        log,
        checkpoint.size,
        checkpoint.root.toString('hex'),
        note,
        madeAt,
      ]);
      return { log, added: queued.length, checkpoint: { ...checkpoint, log, note, madeAt } };
    },
    { deadlineMs: 60_000 },
  );
}

/**
 * The newest checkpoint signed again, same tree, by every key of the ring, when one of them has
 * not signed it (a key just added, or an instance still on the old key signed last). A rotation's
 * next step then finds the new key's signature on the newest checkpoint however quiet the log is.
 */
async function cosign(
  tx: Queryable,
  log: LogName,
  latest: StoredCheckpoint,
  signers: readonly SignerKey[],
): Promise<Integrated | undefined> {
  if (signers.every((s) => signedBy(latest.note, s.verifier))) return undefined;
  const checkpoint = { origin: latest.origin, size: latest.size, root: latest.root };
  const note = signCheckpoint(checkpoint, signers);
  const madeAt = new Date().toISOString();
  await tx.query('UPDATE log_checkpoints SET note = $3, made_at = $4 WHERE log = $1 AND size = $2', [
    log,
    latest.size,
    note,
    madeAt,
  ]);
  return { log, added: 0, checkpoint: { ...checkpoint, log, note, madeAt } };
}

/** Where a record is in its log: its leaf, or that it is queued and not yet placed. */
export type Placement =
  | { readonly placed: true; readonly leafIndex: number; readonly leaf: string }
  | { readonly placed: false; readonly leaf: string | undefined };

export async function placementOf(db: Queryable, log: LogName, ref: string): Promise<Placement> {
  // One statement, one snapshot: a leaf the sequencer moves from the queue to its place between
  // two reads would otherwise be found in neither.
  const { rows } = await db.query<{ leaf_index: string | number | null; leaf: string | null; queued: string | null }>(
    `SELECT e.leaf_index, e.leaf, q.leaf AS queued FROM (SELECT $2::uuid AS ref) r
     LEFT JOIN log_entries e ON e.log = $1 AND e.ref = r.ref
     LEFT JOIN log_queue q ON q.log = $1 AND q.ref = r.ref`,
    [log, ref],
  );
  const row = rows[0];
  if (row?.leaf_index !== null && row?.leaf_index !== undefined && row.leaf !== null)
    return { placed: true, leafIndex: Number(row.leaf_index), leaf: row.leaf };
  return { placed: false, leaf: row?.queued ?? undefined };
}

/** The audit path of a leaf in the tree of `size` leaves. */
export function inclusionProofAt(db: Queryable, log: LogName, leafIndex: number, size: number): Promise<Hash[]> {
  return withNodes(db, log, (node) => inclusionProof(leafIndex, size, node));
}

/** The proof that the tree of `size` leaves extends the tree of `from` leaves. */
export function consistencyProofAt(db: Queryable, log: LogName, from: number, size: number): Promise<Hash[]> {
  return withNodes(db, log, (node) => consistencyProof(from, size, node));
}

/** The root of the first `size` leaves, from the stored nodes. */
export function storedRootAt(db: Queryable, log: LogName, size: number): Promise<Hash> {
  return withNodes(db, log, (node) => rootAt(size, node));
}

/** Opens a stored checkpoint with the log's key and origin: a row rewritten in the database fails here. */
export function openStored(checkpoint: StoredCheckpoint, verifiers: Verifiers): Checkpoint {
  return openCheckpoint(checkpoint.note, verifiers, logOrigin(ringName(verifiers), checkpoint.log));
}
