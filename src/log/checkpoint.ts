import { NoteError, openNote, signNote, type Signers, type Verifiers } from './note.ts';

/**
 * A checkpoint (c2sp.org/tlog-checkpoint): the log's origin, its size and its root hash, one per
 * line, in a signed note. Whoever keeps one can later demand proof that the log still extends it.
 */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Buffer;
}

export function checkpointText(checkpoint: Checkpoint): string {
  return `${checkpoint.origin}\n${checkpoint.size}\n${checkpoint.root.toString('base64')}\n`;
}

export function signCheckpoint(checkpoint: Checkpoint, signers: Signers): string {
  return signNote(checkpointText(checkpoint), signers);
}

/** The body of a checkpoint, without checking any signature. */
export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split('\n');
  const [origin, sizeText, rootText] = lines;
  if (!origin || sizeText === undefined || rootText === undefined)
    throw new NoteError('a checkpoint has an origin line, a size line and a root hash line');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText)))
    throw new NoteError('the checkpoint size is not a whole number');
  const root = Buffer.from(rootText, 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootText)
    throw new NoteError('the checkpoint root is not a base64 SHA-256 hash');
  return { origin, size: Number(sizeText), root };
}

/** A signed checkpoint opened with the log's verifier key (or any of a ring); throws NoteError saying what failed. */
export function openCheckpoint(note: string, verifiers: Verifiers, origin?: string): Checkpoint {
  const checkpoint = parseCheckpointText(openNote(note, verifiers));
  if (origin !== undefined && checkpoint.origin !== origin)
    throw new NoteError(`the checkpoint is for the log "${checkpoint.origin}", not "${origin}"`);
  return checkpoint;
}
