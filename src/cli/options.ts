import { Option } from 'commander';
import { EntitleError } from '../errors/index.ts';

/** The same data settings for every command that touches data. */
export function dataDirOption(): Option {
  return new Option(
    '--data-dir <dir>',
    'directory of the embedded database, used when DATABASE_URL is not set (default ./data)',
  ).env('ENTITLE_DATA_DIR');
}

/** A value an option must have, trimmed; refused by name, saying what to give, when missing or blank. */
export function need(value: string | undefined, field: string, example: string): string {
  if (value === undefined || value.trim() === '') {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${field} is required`, [
      { field, message: `give ${field} ${example}` },
    ]);
  }
  return value.trim();
}
