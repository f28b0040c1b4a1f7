import { Option } from 'commander';

/** The same data settings for every command that touches data. */
export function dataDirOption(): Option {
  return new Option(
    '--data-dir <dir>',
    'directory of the embedded database, used when DATABASE_URL is not set (default ./data)',
  ).env('ENTITLE_DATA_DIR');
}

/** Who is acting, for the record: the audit chain and the two-person rule both use it. */
export function actorOption(recorded: string): Option {
  return new Option('--actor <name>', `who is doing this: ${recorded}`).env('ENTITLE_ACTOR');
}
