import { createHash } from 'node:crypto';

/*
 * The Merkle tree of RFC 9162 (Certificate Transparency 2.0, section 2.1): leaf hashes
 * SHA-256(0x00 || data), interior nodes SHA-256(0x01 || left || right), the tree of n leaves split
 * at the largest power of two below n. Inclusion and consistency proofs are generated and checked
 * as the RFC's algorithms describe.
 *
 * Written by hand: no well-kept npm package builds an RFC 9162 tree with both proofs (sigstore-js
 * checks inclusion in Rekor's log only, and general Merkle packages hash differently). The known
 * answers of RFC 6962's test vectors, shared by Trillian and Go's tlog, are checked in
 * merkle.test.ts.
 */

export type Hash = Buffer;

export function leafHash(data: Buffer | string): Hash {
  return createHash('sha256')
    .update(Buffer.of(0))
    .update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
    .digest();
}

export function nodeHash(left: Hash, right: Hash): Hash {
  return createHash('sha256').update(Buffer.of(1)).update(left).update(right).digest();
}

/** The root of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/** The largest power of two smaller than n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * A perfect subtree of the log: 2^level leaves starting at leaf index * 2^level. Every subtree the
 * RFC's recursion meets whose size is a power of two is aligned like this, so these are the only
 * hashes a store needs to keep to answer any proof for any tree size.
 */
export interface NodeAddress {
  readonly level: number;
  readonly index: number;
}

/** Reads the hash of a perfect subtree. */
export type NodeReader = (address: NodeAddress) => Hash;

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function log2(n: number): number {
  return Math.round(Math.log2(n));
}

/** MTH(D[start:end]) from the stored perfect subtrees. */
function rangeHash(start: number, end: number, node: NodeReader): Hash {
  const n = end - start;
  if (isPowerOfTwo(n)) {
    const level = log2(n);
    return node({ level, index: start / n });
  }
  const k = split(n);
  return nodeHash(rangeHash(start, start + k, node), rangeHash(start + k, end, node));
}

/** The root of the tree of the first `size` leaves. */
export function rootAt(size: number, node: NodeReader): Hash {
  return size === 0 ? EMPTY_ROOT : rangeHash(0, size, node);
}

/** RFC 9162 2.1.3.1: the audit path of leaf `index` in the tree of `size` leaves. */
export function inclusionProof(index: number, size: number, node: NodeReader): Hash[] {
  if (!(index >= 0 && index < size)) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const path = (m: number, start: number, end: number): Hash[] => {
    const n = end - start;
    if (n === 1) return [];
    const k = split(n);
    return m < k
      ? [...path(m, start, start + k), rangeHash(start + k, end, node)]
      : [...path(m - k, start + k, end), rangeHash(start, start + k, node)];
  };
  return path(index, 0, size);
}

/** RFC 9162 2.1.4.1: the proof that the tree of `size` leaves extends the tree of `from`. */
export function consistencyProof(from: number, size: number, node: NodeReader): Hash[] {
  if (!(from > 0 && from <= size)) throw new RangeError(`no consistency proof from ${from} to ${size}`);
  const subproof = (m: number, start: number, end: number, complete: boolean): Hash[] => {
    const n = end - start;
    if (m === n) return complete ? [] : [rangeHash(start, end, node)];
    const k = split(n);
    return m <= k
      ? [...subproof(m, start, start + k, complete), rangeHash(start + k, end, node)]
      : [...subproof(m - k, start + k, end, false), rangeHash(start, start + k, node)];
  };
  return subproof(from, 0, size, true);
}

/**
 * Which perfect subtrees a computation reads: run it once with this recorder, fetch those hashes
 * in one query, and run it again with them.
 */
export function nodesRead<T>(compute: (node: NodeReader) => T): NodeAddress[] {
  const seen = new Map<string, NodeAddress>();
  compute((address) => {
    seen.set(`${address.level}/${address.index}`, address);
    return EMPTY_ROOT;
  });
  return [...seen.values()];
}

export class ProofError extends Error {}

/** RFC 9162 2.1.3.2: the root a leaf and its audit path lead to; throws if the path cannot fit. */
export function rootFromInclusion(index: number, size: number, leaf: Hash, proof: readonly Hash[]): Hash {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size))
    throw new ProofError(`leaf index ${index} is not inside a tree of ${size}`);
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new ProofError('the inclusion proof is longer than the tree allows');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new ProofError('the inclusion proof is shorter than the tree needs');
  return r;
}

export function verifyInclusion(index: number, size: number, leaf: Hash, proof: readonly Hash[], root: Hash): boolean {
  try {
    return rootFromInclusion(index, size, leaf, proof).equals(root);
  } catch (error) {
    if (error instanceof ProofError) return false;
    throw error;
  }
}

/** RFC 9162 2.1.4.2: does the tree of `size` with `newRoot` extend the tree of `from` with `oldRoot`? */
export function verifyConsistency(
  from: number,
  size: number,
  proof: readonly Hash[],
  oldRoot: Hash,
  newRoot: Hash,
): boolean {
  if (!(Number.isSafeInteger(from) && Number.isSafeInteger(size) && from > 0 && from <= size)) return false;
  if (from === size) return proof.length === 0 && oldRoot.equals(newRoot);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(from) ? [oldRoot, ...proof] : [...proof];
  let fn = from - 1;
  let sn = size - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(oldRoot) && sr.equals(newRoot) && sn === 0;
}

/**
 * The right edge of a growing tree: the perfect subtrees that make up its first `size` leaves,
 * largest first. Appending a leaf completes zero or more new perfect subtrees, returned so a store
 * can keep them; the root at any size is these folded from the right.
 */
export class TreeEdge {
  private constructor(
    private size: number,
    private readonly edge: { level: number; hash: Hash }[],
  ) {}

  static empty(): TreeEdge {
    return new TreeEdge(0, []);
  }

  /** The edge of a stored tree of `size` leaves: one perfect subtree per set bit of size. */
  static addresses(size: number): NodeAddress[] {
    const addresses: NodeAddress[] = [];
    let start = 0;
    for (let level = 52; level >= 0; level--) {
      const width = 2 ** level;
      if (size - start >= width) {
        addresses.push({ level, index: start / width });
        start += width;
      }
    }
    return addresses;
  }

  static at(size: number, node: NodeReader): TreeEdge {
    return new TreeEdge(
      size,
      TreeEdge.addresses(size).map((a) => ({ level: a.level, hash: node(a) })),
    );
  }

  get treeSize(): number {
    return this.size;
  }

  /** Adds a leaf hash; returns every perfect subtree it completes, the leaf itself first. */
  append(leaf: Hash): { address: NodeAddress; hash: Hash }[] {
    const made = [{ address: { level: 0, index: this.size }, hash: leaf }];
    let hash = leaf;
    let level = 0;
    let index = this.size;
    while (index % 2 === 1) {
      const left = this.edge.pop()!;
      hash = nodeHash(left.hash, hash);
      level += 1;
      index = Math.floor(index / 2);
      made.push({ address: { level, index }, hash });
    }
    this.edge.push({ level, hash });
    this.size += 1;
    return made;
  }

  root(): Hash {
    if (this.edge.length === 0) return EMPTY_ROOT;
    let root = this.edge[this.edge.length - 1]!.hash;
    for (let i = this.edge.length - 2; i >= 0; i--) root = nodeHash(this.edge[i]!.hash, root);
    return root;
  }
}
