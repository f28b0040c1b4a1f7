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

/**
 * The log's signing key: ENTITLE_LOG_SIGNING_KEY (the key, or a file that holds it: a Kubernetes
 * Secret); otherwise, for the embedded database, the key in the data directory, generated there
 * (mode 0600) the first time. With PostgreSQL and no key, only `allowEphemeral` (development and
 * tests) signs with a key that dies with the process, and says so.
 */
export async function logSettingsFrom(
  store: { readonly databaseUrl?: string | undefined; readonly dataDir?: string | undefined },
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: { allowEphemeral?: boolean } = {},
): Promise<LogSettings> {
  const intervalMs = env.ENTITLE_LOG_INTERVAL_MS ? Number(env.ENTITLE_LOG_INTERVAL_MS) : 1_000;
  if (!(Number.isInteger(intervalMs) && intervalMs >= 50 && intervalMs <= 60_000))
    throw new LogSettingsError('ENTITLE_LOG_INTERVAL_MS must be a whole number of milliseconds from 50 to 60000');
  const dataDir = store.databaseUrl ? undefined : resolve(store.dataDir ?? './data');
  const checkpointDir = env.ENTITLE_CHECKPOINT_DIR
    ? resolve(env.ENTITLE_CHECKPOINT_DIR)
    : dataDir
      ? join(dataDir, 'checkpoints')
      : undefined;
  const given = env.ENTITLE_LOG_SIGNING_KEY;
  let signer: SignerKey;
  let keySource: string;
  if (given) {
    signer = await readKey(given, 'ENTITLE_LOG_SIGNING_KEY');
    keySource = 'ENTITLE_LOG_SIGNING_KEY';
  } else if (dataDir) {
    const file = join(dataDir, KEY_FILE);
    const existing = await readFile(file, 'utf8').catch(() => undefined);
    if (existing) {
      signer = await readKey(existing, file);
    } else {
      signer = generateSignerKey(env.ENTITLE_LOG_ORIGIN || DEFAULT_ORIGIN);
      await mkdir(dataDir, { recursive: true });
      await writeFile(file, `${signer.text}\n`, { mode: 0o600, flag: 'wx' });
      await chmod(file, 0o600);
    }
    keySource = `${KEY_FILE} in the data directory`;
  } else if (options.allowEphemeral) {
    signer = generateSignerKey(env.ENTITLE_LOG_ORIGIN || DEFAULT_ORIGIN);
    keySource = 'a key generated for this process only (set ENTITLE_LOG_SIGNING_KEY)';
  } else {
    throw new LogSettingsError(
      'ENTITLE_LOG_SIGNING_KEY is not set: with PostgreSQL the log needs its signing key from configuration; make one with "entitle log keygen --origin NAME"',
    );
  }
  return { signer, origin: signer.name, checkpointDir, intervalMs, keySource };
}
