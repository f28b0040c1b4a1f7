import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Option } from 'commander';

/** `--json` on a command that prints a result: the same result as one JSON document on stdout. */
export function jsonOption(what = 'the result'): Option {
  return new Option('--json', `print ${what} as JSON`);
}

/** Prints a result as JSON, indented for people and one document for programs (jq, CI). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Where a command writes a file it makes: --out when given, else `folder/name` under the data
 * directory (--data-dir where the command takes it, else ENTITLE_DATA_DIR, by default ./data), never into whatever folder the command ran in.
 * The folder is made if need be, and the path returned for the command to print.
 */
export async function writeOutput(
  text: string,
  out: string | undefined,
  folder: string,
  name: string,
  dataDir = process.env.ENTITLE_DATA_DIR ?? './data',
): Promise<string> {
  const path = resolve(out ?? join(dataDir, folder, name));
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  return path;
}
