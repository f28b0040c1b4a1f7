import { Option } from 'commander';

/** The same data settings for every command that touches data. */
export function dataDirOption(): Option {
  return new Option(
    '--data-dir <dir>',
    'directory of the embedded database, used when DATABASE_URL is not set (default ./data)',
  ).env('ENTITLE_DATA_DIR');
}
