import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { EntitleError } from '../errors/index.ts';
import type { NoteError } from '../log/index.ts';
import {
  logSettingsFrom,
  LogSettingsError,
  parseVerifierKey,
  readCheckpointFiles,
  LOGS,
  type ExternalCheckpoint,
  type LogSettings,
  type VerifierKey,
  type Verifiers,
} from '../log/index.ts';
import { storeSettingsFrom } from '../store/index.ts';

/** The log settings as the service would read them here; refused with what to set when they cannot be. */
export async function configuredLog(options: { dataDir?: string }): Promise<LogSettings> {
  try {
    return await logSettingsFrom(storeSettingsFrom(options));
  } catch (error) {
    if (error instanceof LogSettingsError)
      throw new EntitleError('ENTITLE_INPUT_INVALID', error.message, [
        {
          field: 'ENTITLE_LOG_SIGNING_KEY',
          message: 'set it as the service has it, or give the verifier key with --key',
        },
      ]);
    throw error;
  }
}

/** A verifier key from a file (or given as the key itself), refused with the reason when it is not one. */
export async function verifierFrom(keyOrFile: string): Promise<VerifierKey> {
  const text = /^[^\s+]+\+[0-9a-f]{8}\+/.test(keyOrFile.trim())
    ? keyOrFile
    : await readFile(keyOrFile, 'utf8').catch(() => {
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'the verifier key cannot be read', [
          { field: '--key', message: `${keyOrFile} is not a file that can be read, nor a verifier key` },
        ]);
      });
  try {
    return parseVerifierKey(text);
  } catch (error) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the verifier key is not valid', [
      { field: '--key', message: `${(error as NoteError).message}; "entitle log public-key" prints the right one` },
    ]);
  }
}

/** Checkpoint files named on the command line, or every one kept in the checkpoint directory. */
export async function externalCheckpoints(
  files: readonly string[],
  dir: string | undefined,
): Promise<ExternalCheckpoint[]> {
  if (files.length > 0)
    return Promise.all(
      files.map(async (file) => ({
        source: file,
        note: await readFile(file, 'utf8').catch(() => {
          throw new EntitleError('ENTITLE_INPUT_INVALID', 'a checkpoint file cannot be read', [
            { field: '--checkpoint', message: `${file} cannot be read` },
          ]);
        }),
      })),
    );
  if (!dir) return [];
  const all = await Promise.all(LOGS.map((log) => readCheckpointFiles(dir, log)));
  return all.flat().map((f) => ({ source: f.path, note: f.note }));
}

/** `--checkpoint FILE` (repeatable) and `--key FILE`: how the commands that check the log are told what to trust. */
export function addLogCheckOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--checkpoint <file>', 'a checkpoint kept outside the database (repeatable)')
        .default([])
        .argParser((value: string, previous: string[]) => [...previous, value]),
    )
    .addOption(new Option('--key <file>', "the log's verifier key (default: derived from the configured signing key)"));
}

/** The verifier key and the checkpoints kept outside the database, from those options or the configuration. */
export async function logCheckFrom(options: {
  dataDir?: string;
  checkpoint: string[];
  key?: string;
}): Promise<{ verifier: Verifiers; checkpoints: ExternalCheckpoint[] }> {
  const configured = options.key ? undefined : await configuredLog(options);
  const verifier = options.key ? await verifierFrom(options.key) : configured!.verifiers;
  const checkpoints = await externalCheckpoints(
    options.checkpoint,
    configured?.checkpointDir ?? process.env.ENTITLE_CHECKPOINT_DIR,
  );
  return { verifier, checkpoints };
}
