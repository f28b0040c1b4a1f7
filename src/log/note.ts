import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

/*
 * Signed notes (c2sp.org/signed-note) with Ed25519 keys, the envelope of Go's checksum database,
 * Sigstore's and every witness's checkpoints. Keys are written as that ecosystem writes them:
 *
 *   signer   PRIVATE+KEY+<name>+<key id>+<base64(0x01 || 32-byte seed)>
 *   verifier <name>+<key id>+<base64(0x01 || 32-byte public key)>
 *
 * The key id is the first four bytes of SHA-256(name || "\n" || 0x01 || public key). Written by
 * hand on node:crypto: the format is a page long and no maintained npm package implements it. The
 * known answers of Go's sumdb/note tests and the C2SP example are checked in note.test.ts.
 */

const ED25519 = 0x01;
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');
const DASH = '\u2014';

export class NoteError extends Error {}

export interface VerifierKey {
  readonly name: string;
  readonly id: Buffer;
  readonly publicKey: KeyObject;
  /** The verifier key as text, to publish. */
  readonly text: string;
}

export interface SignerKey {
  readonly name: string;
  readonly id: Buffer;
  readonly privateKey: KeyObject;
  readonly verifier: VerifierKey;
  /** The signer key as text, to keep secret. */
  readonly text: string;
}

/**
 * Keys that sign together: each note carries one signature line per key, as c2sp.org/signed-note
 * allows. A log key is rotated by signing with the old and the new key for a while.
 */
export type Signers = SignerKey | readonly SignerKey[];
/** Keys whose signature is accepted: a signature by any one of them opens the note. */
export type Verifiers = VerifierKey | readonly VerifierKey[];

/** The keys of a ring, in order (one key is a ring of one). */
export function ringOf<T extends SignerKey | VerifierKey>(keys: T | readonly T[]): readonly T[] {
  return Array.isArray(keys) ? (keys as readonly T[]) : [keys as T];
}

/** The name the keys of a ring share (the log's origin): the first key's. */
export function ringName(keys: Signers | Verifiers): string {
  const first = ringOf<SignerKey | VerifierKey>(keys)[0];
  if (!first) throw new NoteError('a key ring holds at least one key');
  return first.name;
}

function validName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

function keyId(name: string, publicRaw: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.from(`${name}\n`, 'utf8'))
    .update(Buffer.of(ED25519))
    .update(publicRaw)
    .digest()
    .subarray(0, 4);
}

function publicRawOf(privateKey: KeyObject): Buffer {
  const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return der.subarray(SPKI_ED25519.length);
}

function verifierFrom(name: string, publicRaw: Buffer): VerifierKey {
  const id = keyId(name, publicRaw);
  return {
    name,
    id,
    publicKey: createPublicKey({ key: Buffer.concat([SPKI_ED25519, publicRaw]), format: 'der', type: 'spki' }),
    text: `${name}+${id.toString('hex')}+${Buffer.concat([Buffer.of(ED25519), publicRaw]).toString('base64')}`,
  };
}

function decodeKeyMaterial(text: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new NoteError(`the ${what} is not base64`);
  const raw = Buffer.from(text, 'base64');
  if (raw.length !== 33 || raw[0] !== ED25519) throw new NoteError(`the ${what} is not an Ed25519 key`);
  return raw.subarray(1);
}

/** Reads a signer key (`PRIVATE+KEY+name+id+key`); refuses one whose id does not match its key. */
export function parseSignerKey(text: string): SignerKey {
  const parts = text.trim().split('+');
  if (parts.length < 5 || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY')
    throw new NoteError('a signer key starts "PRIVATE+KEY+" followed by its name, key id and key');
  const [name, idHex] = [parts[2]!, parts[3]!];
  const seed = decodeKeyMaterial(parts.slice(4).join('+'), 'signer key');
  if (!validName(name)) throw new NoteError('the key name is empty or holds a space or "+"');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const verifier = verifierFrom(name, publicRawOf(privateKey));
  if (verifier.id.toString('hex') !== idHex.toLowerCase())
    throw new NoteError('the key id does not match the key: the signer key was altered or mistyped');
  return { name, id: verifier.id, privateKey, verifier, text: text.trim() };
}

/** Reads a verifier key (`name+id+key`); refuses one whose id does not match its key. */
export function parseVerifierKey(text: string): VerifierKey {
  const parts = text.trim().split('+');
  if (parts.length < 3) throw new NoteError('a verifier key is its name, key id and key, joined by "+"');
  const [name, idHex] = [parts[0]!, parts[1]!];
  if (!validName(name)) throw new NoteError('the key name is empty or holds a space');
  const verifier = verifierFrom(name, decodeKeyMaterial(parts.slice(2).join('+'), 'verifier key'));
  if (verifier.id.toString('hex') !== idHex.toLowerCase())
    throw new NoteError('the key id does not match the key: the verifier key was altered or mistyped');
  return verifier;
}

/** A new signer key with this name. */
export function generateSignerKey(name: string): SignerKey {
  if (!validName(name)) throw new NoteError('the key name must not be empty or hold a space or "+"');
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_ED25519.length);
  const id = keyId(name, publicRawOf(privateKey));
  return parseSignerKey(
    `PRIVATE+KEY+${name}+${id.toString('hex')}+${Buffer.concat([Buffer.of(ED25519), seed]).toString('base64')}`,
  );
}

/** Signs `text` (which must end in a newline): the text, a blank line, and a signature line per signer. */
export function signNote(text: string, signers: Signers): string {
  if (!text.endsWith('\n') || text.includes('\n\n'))
    throw new NoteError('a note text ends in one newline and has no blank line');
  const ring = ringOf(signers);
  if (ring.length === 0) throw new NoteError('a note is signed by at least one key');
  const lines = ring.map((signer) => {
    const signature = sign(null, Buffer.from(text, 'utf8'), signer.privateKey);
    return `${DASH} ${signer.name} ${Buffer.concat([signer.id, signature]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/**
 * The text of a note signed by one of `verifiers`; throws NoteError, saying what is wrong, if the
 * note is malformed or carries no valid signature by any of them. Signatures by other keys are
 * ignored; a signature line claiming one of the keys that does not verify fails the note.
 */
export function openNote(note: string, verifiers: Verifiers): string {
  const ring = ringOf(verifiers);
  const at = note.lastIndexOf('\n\n');
  if (at < 0) throw new NoteError('the note has no signature block');
  const text = note.slice(0, at + 1);
  const lines = note.slice(at + 2).split('\n');
  if (lines.pop() !== '') throw new NoteError('the note does not end in a newline');
  let altered: VerifierKey | undefined;
  let opened = false;
  for (const line of lines) {
    const match = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/u.exec(line);
    if (!match) throw new NoteError('a signature line is malformed');
    const blob = Buffer.from(match[2]!, 'base64');
    const verifier = ring.find((v) => match[1] === v.name && blob.length >= 4 && blob.subarray(0, 4).equals(v.id));
    if (!verifier) continue;
    if (blob.length === 68 && verify(null, Buffer.from(text, 'utf8'), verifier.publicKey, blob.subarray(4)))
      opened = true;
    else altered ??= verifier;
  }
  if (altered) throw new NoteError(`the signature by ${altered.name} does not match the note: its text was altered`);
  if (opened) return text;
  throw new NoteError(
    `the note is not signed by the key ${ring.map((v) => `${v.name}+${v.id.toString('hex')}`).join(' or ')}`,
  );
}
