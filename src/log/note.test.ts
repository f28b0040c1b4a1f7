import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openCheckpoint, parseCheckpointText, signCheckpoint } from './checkpoint.ts';
import { generateSignerKey, NoteError, openNote, parseSignerKey, parseVerifierKey, signNote } from './note.ts';

// Known answers: the key pair and signed note of Go's golang.org/x/mod/sumdb/note tests, and the
// example of c2sp.org/signed-note. Ed25519 signatures are deterministic, so signing the same text
// with the same key must give the published note byte for byte.
const GO_SIGNER = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VERIFIER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;
const C2SP_VERIFIER = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const C2SP_NOTE =
  'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

describe('signed notes', () => {
  it('derive the published verifier key and reproduce the published signature', () => {
    const signer = parseSignerKey(GO_SIGNER);
    assert.equal(signer.verifier.text, GO_VERIFIER);
    assert.equal(signNote(GO_TEXT, signer), GO_NOTE);
    assert.equal(openNote(GO_NOTE, parseVerifierKey(GO_VERIFIER)), GO_TEXT);
    assert.equal(openNote(C2SP_NOTE, parseVerifierKey(C2SP_VERIFIER)), 'This is an example message.\n');
  });

  it('refuse an altered text, another key, and a key whose id does not match it', () => {
    const verifier = parseVerifierKey(GO_VERIFIER);
    assert.throws(() => openNote(GO_NOTE.replace('cryptography', 'cryptographY'), verifier), /text was altered/);
    assert.throws(() => openNote(GO_NOTE, parseVerifierKey(C2SP_VERIFIER)), /not signed by the key example.com\/foo/);
    assert.throws(() => parseVerifierKey(GO_VERIFIER.replace('c74f20a3', 'c74f20a4')), /key id does not match/);
    assert.throws(() => parseSignerKey('PRIVATE+KEY+x'), NoteError);
  });

  it('sign and open checkpoints with a generated key', () => {
    const signer = generateSignerKey('entitle.test/decisions');
    const root = Buffer.alloc(32, 7);
    const note = signCheckpoint({ origin: 'entitle.test/decisions', size: 12, root }, signer);
    const verifier = parseVerifierKey(signer.verifier.text);
    assert.deepEqual(openCheckpoint(note, verifier, 'entitle.test/decisions'), {
      origin: 'entitle.test/decisions',
      size: 12,
      root,
    });
    assert.throws(() => openCheckpoint(note.replace('\n12\n', '\n13\n'), verifier), /text was altered/);
    assert.throws(() => openCheckpoint(note, verifier, 'another/log'), /not "another\/log"/);
    assert.throws(() => parseCheckpointText('origin\n01\nAAAA\n'), /whole number/);
  });

  it('sign with a ring of keys, one line each, and open with any key of a ring', () => {
    const old = generateSignerKey('entitle.test');
    const fresh = generateSignerKey('entitle.test');
    const stranger = generateSignerKey('entitle.test');
    const note = signNote('a checkpoint\n', [old, fresh]);
    assert.equal(note.match(/^— entitle\.test /gm)?.length, 2);
    assert.equal(openNote(note, old.verifier), 'a checkpoint\n');
    assert.equal(openNote(note, fresh.verifier), 'a checkpoint\n');
    assert.equal(openNote(signNote('a checkpoint\n', old), [stranger.verifier, old.verifier]), 'a checkpoint\n');
    assert.throws(
      () => openNote(signNote('a checkpoint\n', stranger), [old.verifier, fresh.verifier]),
      /not signed by the key entitle\.test\+[0-9a-f]{8} or entitle\.test\+[0-9a-f]{8}/,
    );
    // One good signature does not excuse a bad one from a key of the ring: the text kept, one
    // signature line (the new key's) replaced by its signature of another text.
    const [text, lines] = note.split('\n\n') as [string, string];
    const other = signNote('another checkpoint\n', fresh).split('\n\n')[1]!;
    const forged = `${text}\n\n${lines.split('\n')[0]!}\n${other}`;
    assert.equal(forged.match(/^— /gm)?.length, 2);
    assert.equal(openNote(forged, old.verifier), 'a checkpoint\n', 'the old key alone still opens it');
    assert.throws(() => openNote(forged, [old.verifier, fresh.verifier]), /signature by entitle\.test does not match/);
    assert.throws(() => signNote('a checkpoint\n', []), /at least one key/);
  });
});
