import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  rootAt,
  TreeEdge,
  verifyConsistency,
  verifyInclusion,
  type Hash,
  type NodeReader,
} from './merkle.ts';

// RFC 6962's test vectors, as Trillian and Go's tlog test against them: eight leaves and the root
// of each tree of the first 1 to 8 of them, and proofs published with them.
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const h = (hex: string): Hash => Buffer.from(hex, 'hex');

/** A tree built leaf by leaf, keeping every perfect subtree as the store does. */
function build(leaves: readonly Hash[]): { edge: TreeEdge; node: NodeReader } {
  const nodes = new Map<string, Hash>();
  const edge = TreeEdge.empty();
  for (const leaf of leaves)
    for (const made of edge.append(leaf)) nodes.set(`${made.address.level}/${made.address.index}`, made.hash);
  return {
    edge,
    node: (a) => {
      const hash = nodes.get(`${a.level}/${a.index}`);
      if (!hash) throw new Error(`node ${a.level}/${a.index} was never made`);
      return hash;
    },
  };
}

const vectorLeaves = LEAVES.map((x) => leafHash(h(x)));

describe('the Merkle tree (RFC 9162)', () => {
  it('gives the published root for every size of the test vectors, growing and read back', () => {
    for (let size = 1; size <= 8; size++) {
      const { edge, node } = build(vectorLeaves.slice(0, size));
      assert.equal(edge.root().toString('hex'), ROOTS[size - 1], `grown to ${size}`);
      assert.equal(rootAt(size, build(vectorLeaves).node).toString('hex'), ROOTS[size - 1], `read at ${size}`);
      assert.equal(TreeEdge.at(size, node).root().toString('hex'), ROOTS[size - 1], `edge reloaded at ${size}`);
    }
  });

  it('makes the published inclusion proofs, and they verify only for their own leaf', () => {
    const { node } = build(vectorLeaves);
    const proof = inclusionProof(5, 8, node);
    assert.deepEqual(
      proof.map((x) => x.toString('hex')),
      [
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    );
    assert.ok(verifyInclusion(5, 8, vectorLeaves[5]!, proof, h(ROOTS[7]!)));
    assert.ok(!verifyInclusion(4, 8, vectorLeaves[5]!, proof, h(ROOTS[7]!)));
    assert.ok(!verifyInclusion(5, 8, vectorLeaves[4]!, proof, h(ROOTS[7]!)));
    assert.ok(!verifyInclusion(5, 8, vectorLeaves[5]!, proof.slice(1), h(ROOTS[7]!)));
    assert.ok(verifyInclusion(2, 3, vectorLeaves[2]!, [h(ROOTS[1]!)], h(ROOTS[2]!)));
  });

  it('makes the published consistency proofs, and they fail against another old root', () => {
    const { node } = build(vectorLeaves);
    const proof = consistencyProof(6, 8, node);
    assert.deepEqual(
      proof.map((x) => x.toString('hex')),
      [
        '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
        'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
        'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      ],
    );
    assert.ok(verifyConsistency(6, 8, proof, h(ROOTS[5]!), h(ROOTS[7]!)));
    assert.ok(!verifyConsistency(6, 8, proof, h(ROOTS[4]!), h(ROOTS[7]!)));
    assert.deepEqual(
      consistencyProof(2, 5, node).map((x) => x.toString('hex')),
      [
        '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
        'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      ],
    );
  });

  it('proves every leaf and every pair of sizes of a tree of 70, and no proof survives a changed hash', () => {
    const leaves = Array.from({ length: 70 }, (_, i) => leafHash(`leaf ${i}`));
    const { node } = build(leaves);
    for (let size = 1; size <= 70; size++) {
      const root = rootAt(size, node);
      for (let i = 0; i < size; i++)
        assert.ok(verifyInclusion(i, size, leaves[i]!, inclusionProof(i, size, node), root));
      for (let from = 1; from <= size; from++) {
        const proof = consistencyProof(from, size, node);
        assert.ok(verifyConsistency(from, size, proof, rootAt(from, node), root), `${from} to ${size}`);
        if (proof.length > 0) {
          const bent = proof.map((x, i) => (i === proof.length - 1 ? leafHash(x) : x));
          assert.ok(!verifyConsistency(from, size, bent, rootAt(from, node), root));
        }
      }
    }
  });
});
