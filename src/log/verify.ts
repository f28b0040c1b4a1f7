import type { Queryable } from '../store/index.ts';
import { openCheckpoint } from './checkpoint.ts';
import { leafHash, TreeEdge } from './merkle.ts';
import { NoteError, ringName, type Verifiers } from './note.ts';
import { logOrigin, storedCheckpoints, storedRootAt, LogIntegrityError, type LogName } from './store.ts';

/** One leaf as stored, with what the caller found when it checked the record behind it. */
export interface LeafCheck {
  readonly leafIndex: number;
  readonly leaf: string;
  /** Why the record behind the leaf does not match it; undefined when it does. */
  readonly problem?: string | undefined;
}

/** Reads leaves from `fromIndex`, in order, at most `limit`, each checked against its record. */
export type LeafSource = (fromIndex: number, limit: number) => Promise<LeafCheck[]>;

/** A checkpoint kept outside the database: a file, or one given on the command line. */
export interface ExternalCheckpoint {
  readonly source: string;
  readonly note: string;
}

export type LogReport =
  | { readonly ok: true; readonly size: number; readonly root: Buffer; readonly checkpoints: number }
  | {
      readonly ok: false;
      readonly size: number;
      readonly problem: string;
      /** Leaves a checkpoint proves existed but the log no longer holds (truncated, or restored from an older backup). */
      readonly missing?: { readonly from: number; readonly to: number };
    };

const PAGE = 2_000;

/** The first stored node that is missing or differs from the one rebuilt, said for an operator. */
async function storedNodesDiffer(
  db: Queryable,
  log: LogName,
  made: readonly { level: number; index: number; hash: Buffer }[],
): Promise<string | undefined> {
  if (made.length === 0) return undefined;
  const { rows } = await db.query<{ level: number; idx: string | number; hash: string }>(
    `SELECT n.level, n.idx, n.hash FROM log_nodes n
     JOIN unnest($2::smallint[], $3::bigint[]) AS w(level, idx) ON n.level = w.level AND n.idx = w.idx
     WHERE n.log = $1`,
    [log, made.map((n) => n.level), made.map((n) => n.index)],
  );
  const stored = new Map(rows.map((r) => [`${r.level}/${Number(r.idx)}`, r.hash]));
  for (const node of made) {
    const hash = stored.get(`${node.level}/${node.index}`);
    if (hash !== node.hash.toString('hex'))
      return `the stored node ${node.level}/${node.index} of the ${log} log ${hash === undefined ? 'is missing' : 'was altered'}: proofs made from it would fail`;
  }
  return undefined;
}

/**
 * Rebuilds a log's tree from its records and checks it against every checkpoint: the ones in the
 * database and the ones kept outside it. Each record must still give its leaf; each checkpoint
 * must carry the log key's signature and the root of the rebuilt tree at its size; a checkpoint
 * larger than the log means leaves were removed. The stored nodes that proofs are made from must
 * give the same root.
 */
export async function verifyLog(
  db: Queryable,
  log: LogName,
  source: LeafSource,
  options: { readonly verifier: Verifiers; readonly external?: readonly ExternalCheckpoint[] },
): Promise<LogReport> {
  const origin = logOrigin(ringName(options.verifier), log);
  const wanted = new Map<number, { source: string; root: Buffer }[]>();
  const want = (size: number, from: string, root: Buffer) =>
    wanted.set(size, [...(wanted.get(size) ?? []), { source: from, root }]);
  const stored = await storedCheckpoints(db, log);
  for (const checkpoint of stored) {
    try {
      openCheckpoint(checkpoint.note, options.verifier, origin);
    } catch (error) {
      return {
        ok: false,
        size: 0,
        problem: `the stored checkpoint of ${checkpoint.size} leaves fails its signature: ${(error as NoteError).message}`,
      };
    }
    want(checkpoint.size, `the stored checkpoint of ${checkpoint.size} leaves`, checkpoint.root);
  }
  const external = [];
  for (const given of options.external ?? []) {
    try {
      const checkpoint = openCheckpoint(given.note, options.verifier, origin);
      external.push({ ...checkpoint, source: given.source });
      want(checkpoint.size, `checkpoint ${given.source} (${checkpoint.size} leaves)`, checkpoint.root);
    } catch (error) {
      if (error instanceof NoteError) {
        if (/for the log/.test(error.message)) continue; // another log's checkpoint: not for this one
        return { ok: false, size: 0, problem: `checkpoint ${given.source} cannot be trusted: ${error.message}` };
      }
      throw error;
    }
  }

  const edge = TreeEdge.empty();
  for (;;) {
    const page = await source(edge.treeSize, PAGE);
    // Every perfect subtree the rebuild completes must be the one stored: proofs are made from them.
    const made: { level: number; index: number; hash: Buffer }[] = [];
    for (const entry of page) {
      if (entry.leafIndex !== edge.treeSize)
        return { ok: false, size: edge.treeSize, problem: `leaf ${edge.treeSize} of the ${log} log is missing` };
      if (entry.problem) return { ok: false, size: edge.treeSize, problem: entry.problem };
      for (const node of edge.append(leafHash(entry.leaf)))
        if (node.address.level > 0) made.push({ ...node.address, hash: node.hash });
      for (const expected of wanted.get(edge.treeSize) ?? [])
        if (!expected.root.equals(edge.root()))
          return {
            ok: false,
            size: edge.treeSize,
            problem: `the ${log} log does not extend ${expected.source}: its first ${edge.treeSize} leaves give another root, so records below it were altered, removed or reordered`,
          };
    }
    const altered = await storedNodesDiffer(db, log, made);
    if (altered) return { ok: false, size: edge.treeSize, problem: altered };
    if (page.length < PAGE) break;
  }
  const size = edge.treeSize;
  const beyond = [...wanted.entries()].filter(([at]) => at > size).sort((a, b) => b[0] - a[0])[0];
  if (beyond) {
    return {
      ok: false,
      size,
      problem: `${beyond[1][0]!.source} names ${beyond[0]} leaves but the ${log} log holds ${size}: leaves ${size} to ${beyond[0] - 1} are missing (removed, or the database was restored from an older backup)`,
      missing: { from: size, to: beyond[0] - 1 },
    };
  }
  if (size > 0) {
    try {
      if (!(await storedRootAt(db, log, size)).equals(edge.root()))
        return {
          ok: false,
          size,
          problem: `the stored nodes of the ${log} log no longer give its root: they were altered`,
        };
    } catch (error) {
      if (error instanceof LogIntegrityError) return { ok: false, size, problem: error.message };
      throw error;
    }
  }
  return { ok: true, size, root: edge.root(), checkpoints: stored.length + external.length };
}
