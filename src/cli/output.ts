import { Option } from 'commander';

/** `--json` on a command that prints a result: the same result as one JSON document on stdout. */
export function jsonOption(what = 'the result'): Option {
  return new Option('--json', `print ${what} as JSON`);
}

/** Prints a result as JSON, indented for people and one document for programs (jq, CI). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
