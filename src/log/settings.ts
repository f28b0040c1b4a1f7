import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { NoteError } from './note.ts';
import { generateSignerKey, parseSignerKey, parseVerifierKey, type SignerKey, type VerifierKey } from './note.ts';
import type { LogKeys } from './store.ts';

/** How the service signs its log and where it keeps the copies of its checkpoints. */
export interface LogSettings extends LogKeys {
  /** The first key of the ring: its verifier key is the one published (GET /v1/log/key). */
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

/** Keys written one after another: separated by new lines, spaces or commas (none appears in a key). */
const keysIn = (text: string) => text.split(/[\s,]+/).filter((k) => k !== '');

/** The signer keys in `text` (the keys, or a file that holds them), first the one whose verifier is published. */
async function readKeys(text: string, where: string): Promise<SignerKey[]> {
  const value = text.trim().startsWith('PRIVATE+KEY+') ? text : await readFile(text, 'utf8').catch(() => undefined);
  if (value === undefined)
    throw new LogSettingsError(`${where} is neither a signer key (PRIVATE+KEY+...) nor a file that holds one`);
  try {
    return keysIn(value).map(parseSignerKey);
  } catch (error) {
    throw new LogSettingsError(`${where} cannot be read: ${(error as NoteError).message}`);
  }
}

/**
 * A ring of log keys: every signer signs each new checkpoint (while a key is rotated, the old and
 * the new), and a checkpoint signed by any signer or by a retired key is accepted. All share the
 * log's name, or the checkpoints' origin would change under their readers.
 */
export function logKeysOf(
  signers: readonly SignerKey[],
  retired: readonly VerifierKey[] = [],
): LogKeys & { signer: SignerKey } {
  const [signer] = signers;
  if (!signer) throw new LogSettingsError('ENTITLE_LOG_SIGNING_KEY holds no key');
  const other = signers.find((k) => k.name !== signer.name);
  if (other)
    throw new LogSettingsError(
      `every log key must be named ${signer.name}, the log's origin: a key named ${other.name} was given (make the new key with "entitle log keygen --origin ${signer.name}")`,
    );
  const stray = retired.find((k) => k.name !== signer.name);
  if (stray)
    throw new LogSettingsError(
      `ENTITLE_LOG_RETIRED_KEYS holds a key named ${stray.name}, but this log is ${signer.name}: give the verifier keys of this log's earlier signing keys`,
    );
  const verifiers = [...signers.map((s) => s.verifier), ...retired];
  return {
    signer,
    signers,
    verifiers: verifiers.filter((v, i) => verifiers.findIndex((w) => w.text === v.text) === i),
  };
}

/** ENTITLE_LOG_RETIRED_KEYS: verifier keys of signing keys no longer used, whose checkpoints still stand. */
function retiredKeys(value: string | undefined): VerifierKey[] {
  try {
    return keysIn(value ?? '').map(parseVerifierKey);
  } catch (error) {
    throw new LogSettingsError(`ENTITLE_LOG_RETIRED_KEYS cannot be read: ${(error as NoteError).message}`);
  }
}

/** The keys in a directory (one, or a ring), made there (mode 0600) the first time; undefined when it cannot be written. */
async function keyInDirectory(dir: string, origin: string): Promise<SignerKey[] | undefined> {
  const file = join(dir, KEY_FILE);
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing) return readKeys(existing, file);
  const signer = generateSignerKey(origin);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(file, `${signer.text}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
    return [signer];
  } catch {
    // Another process made it first (read it), or the directory cannot be written.
    const made = await readFile(file, 'utf8').catch(() => undefined);
    return made ? readKeys(made, file) : undefined;
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
  const retired = retiredKeys(env.ENTITLE_LOG_RETIRED_KEYS);
  if (given) {
    const keys = logKeysOf(await readKeys(given, 'ENTITLE_LOG_SIGNING_KEY'), retired);
    const source =
      keys.signers.length > 1
        ? `ENTITLE_LOG_SIGNING_KEY (${keys.signers.length} keys signing: a rotation)`
        : 'ENTITLE_LOG_SIGNING_KEY';
    return { ...keys, origin: keys.signer.name, checkpointDir, intervalMs, keySource: source };
  }
  if (embedded || options.allowLocalKey) {
    const inDirectory = await keyInDirectory(dataDir, origin);
    if (inDirectory)
      return {
        ...logKeysOf(inDirectory, retired),
        origin: inDirectory[0]!.name,
        checkpointDir,
        intervalMs,
        keySource: `${KEY_FILE} in the data directory`,
      };
    if (embedded) throw new LogSettingsError(`the log's key cannot be written to ${join(dataDir, KEY_FILE)}`);
    const ephemeral = generateSignerKey(origin);
    return {
      ...logKeysOf([ephemeral]),
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
