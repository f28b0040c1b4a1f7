import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { NoteError } from './note.ts';
import { generateSignerKey, parseSignerKey, type SignerKey } from './note.ts';

/** How the service signs its log and where it keeps the copies of its checkpoints. */
export interface LogSettings {
  readonly signer: SignerKey;
  /** The origin of the checkpoints (`<origin>/decisions`, `<origin>/audit`): the signing key's name. */
  readonly origin: string;
  /** Where each checkpoint is also written, outside the database; undefined: only in the database. */
  readonly checkpointDir: string | undefined;
  /** How often the sequencer places queued leaves and signs a checkpoint (default 1 s). */
  readonly intervalMs: number;
  /** Said at start-up: where the key came from, never the key. */
  readonly keySource: string;
}

export const DEFAULT_ORIGIN = 'entitle.localhost';
export const KEY_FILE = 'log-signing.key';

export class LogSettingsError extends Error {}

async function readKey(text: string, where: string): Promise<SignerKey> {
  const value = text.trim().startsWith('PRIVATE+KEY+') ? text : await readFile(text, 'utf8').catch(() => undefined);
  if (value === undefined)
    throw new LogSettingsError(`${where} is neither a signer key (PRIVATE+KEY+...) nor a file that holds one`);
  try {
    return parseSignerKey(value);
  } catch (error) {
    throw new LogSettingsError(`${where} cannot be read: ${(error as NoteError).message}`);
  }
}

/** The key in a directory, made there (mode 0600) the first time; undefined when it cannot be written. */
async function keyInDirectory(dir: string, origin: string): Promise<SignerKey | undefined> {
  const file = join(dir, KEY_FILE);
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing) return readKey(existing, file);
  const signer = generateSignerKey(origin);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(file, `${signer.text}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return signer;
  } catch {
    // Another process made it first (read it), or the directory cannot be written.
    const made = await readFile(file, 'utf8').catch(() => undefined);
    return made ? readKey(made, file) : undefined;
  }
}

/**
 * The log's signing key: ENTITLE_LOG_SIGNING_KEY (the key, or a file that holds it: a Kubernetes
 * Secret); otherwise, for the embedded database, the key in the data directory, made there (mode
 * 0600) the first time. With PostgreSQL and no key, staging and production refuse to start; a
 * development machine (`allowLocalKey`) uses the key in the local data directory, so every
 * instance on the machine signs alike, or, where that cannot be written, a key for the process
 * alone, and says so.
 */
export async function logSettingsFrom(
  store: { readonly databaseUrl?: string | undefined; readonly dataDir?: string | undefined },
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: { allowLocalKey?: boolean } = {},
): Promise<LogSettings> {
  const intervalMs = env.ENTITLE_LOG_INTERVAL_MS ? Number(env.ENTITLE_LOG_INTERVAL_MS) : 1_000;
  if (!(Number.isInteger(intervalMs) && intervalMs >= 50 && intervalMs <= 60_000))
    throw new LogSettingsError('ENTITLE_LOG_INTERVAL_MS must be a whole number of milliseconds from 50 to 60000');
  const dataDir = resolve(store.dataDir ?? './data');
  const embedded = !store.databaseUrl;
  const checkpointDir = env.ENTITLE_CHECKPOINT_DIR
    ? resolve(env.ENTITLE_CHECKPOINT_DIR)
    : embedded
      ? join(dataDir, 'checkpoints')
      : undefined;
  const origin = env.ENTITLE_LOG_ORIGIN || DEFAULT_ORIGIN;
  const given = env.ENTITLE_LOG_SIGNING_KEY;
  if (given) {
    const signer = await readKey(given, 'ENTITLE_LOG_SIGNING_KEY');
    return { signer, origin: signer.name, checkpointDir, intervalMs, keySource: 'ENTITLE_LOG_SIGNING_KEY' };
  }
  if (embedded || options.allowLocalKey) {
    const signer = await keyInDirectory(dataDir, origin);
    if (signer)
      return { signer, origin: signer.name, checkpointDir, intervalMs, keySource: `${KEY_FILE} in the data directory` };
    if (embedded) throw new LogSettingsError(`the log's key cannot be written to ${join(dataDir, KEY_FILE)}`);
    const ephemeral = generateSignerKey(origin);
    return {
      signer: ephemeral,
      origin: ephemeral.name,
      checkpointDir,
      intervalMs,
      keySource: 'a key generated for this process only (set ENTITLE_LOG_SIGNING_KEY)',
    };
  }
  throw new LogSettingsError(
    'ENTITLE_LOG_SIGNING_KEY is not set: with PostgreSQL the log needs its signing key from configuration; make one with "entitle log keygen --origin NAME"',
  );
}
