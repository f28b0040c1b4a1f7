import { createWriteStream } from 'node:fs';
import { readdir, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Option, type Command } from 'commander';
import { verifyAuditLog } from '../../audit/index.ts';
import { backupTo, readBackupHeader, restoreFrom, RestoreError, type BackupSummary } from '../../backup/index.ts';
import { verifyChain } from '../../decisions/index.ts';
import { EntitleError } from '../../errors/index.ts';
import { withDatabase } from '../database.ts';
import { EXIT } from '../exit.ts';
import { addLogCheckOptions, logCheckFrom } from '../log-key.ts';
import { dataDirOption } from '../options.ts';
import { printJson } from '../output.ts';

/** Where this backup goes: --out, or a new timestamped file in --out-dir; exactly one of them. */
function backupFile(options: { out?: string; outDir?: string; keep?: string }): string {
  if (Boolean(options.out) === Boolean(options.outDir))
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'say where the backup goes', [
      { field: '--out', message: 'give either --out FILE or --out-dir DIR' },
    ]);
  if (options.keep !== undefined && !(Number.isInteger(Number(options.keep)) && Number(options.keep) >= 1))
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the number of backups to keep is not valid', [
      { field: '--keep', message: 'give a whole number of 1 or more' },
    ]);
  if (options.out) return resolve(options.out);
  return resolve(options.outDir!, `entitle-${new Date().toISOString().replace(/[:.]/g, '-')}.backup.gz`);
}

/** Keeps the newest `keep` backups in the folder (their names sort by time). */
async function pruneBackups(dir: string, keep: number): Promise<void> {
  const names = (await readdir(dir)).filter((n) => /^entitle-.*\.backup\.gz$/.test(n)).sort();
  for (const name of names.slice(0, Math.max(0, names.length - keep))) await unlink(join(dir, name));
}

/** GET /v1/backup into `file` (through a partial file, renamed once whole), and its summary. */
async function backupThroughService(url: string, file: string): Promise<BackupSummary> {
  const started = process.hrtime.bigint();
  const key = process.env.ENTITLE_API_KEY;
  if (!key)
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'no API key to ask the service with', [
      { field: 'ENTITLE_API_KEY', message: 'set it to an admin key ("entitle keys create --roles admin")' },
    ]);
  let response: Response;
  try {
    response = await fetch(new URL('/v1/backup', url), { headers: { authorization: `Bearer ${key}` } });
  } catch (error) {
    throw new EntitleError(
      'ENTITLE_SOURCE_UNREACHABLE',
      `the service at ${url} could not be reached (${(error as Error).name})`,
    );
  }
  if (!response.ok || !response.body) {
    const problem = (await response.json().catch(() => ({}))) as { detail?: string };
    throw new EntitleError(
      response.status === 401 || response.status === 403 ? 'ENTITLE_INPUT_INVALID' : 'ENTITLE_STORE_UNAVAILABLE',
      `the service refused the backup (${response.status}): ${problem.detail ?? response.statusText}`,
    );
  }
  const partial = `${file}.partial`;
  await pipeline(Readable.fromWeb(response.body), createWriteStream(partial, { mode: 0o600 }));
  await rename(partial, file);
  const header = await readBackupHeader(file);
  return { header, bytes: (await stat(file)).size, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** `entitle backup` and `entitle restore`. */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description(
      'Write a consistent snapshot of the whole database (PostgreSQL or embedded) to one file, while the service runs: every table, the sequences and the newest checkpoints. With the embedded database, stop the service first or back up its data directory with it stopped.',
    )
    .addOption(dataDirOption())
    .addOption(new Option('--out <file>', 'the file to write (gzip’d JSON lines; mode 0600: it holds personal data)'))
    .addOption(
      new Option('--out-dir <dir>', 'write entitle-<UTC time>.backup.gz in this folder instead (the scheduled backup)'),
    )
    .addOption(new Option('--keep <n>', 'with --out-dir, keep only the newest n backups there'))
    .addOption(
      new Option(
        '--url <url>',
        'take the backup through the running service (GET /v1/backup, with ENTITLE_API_KEY of an admin): how to back up the embedded database while it serves',
      ),
    )
    .addOption(new Option('--json', 'print the summary as JSON'))
    .action(
      async (options: {
        dataDir?: string;
        out?: string;
        outDir?: string;
        keep?: string;
        url?: string;
        json?: boolean;
      }) => {
        const out = backupFile(options);
        const summary = options.url
          ? await backupThroughService(options.url, out)
          : await withDatabase(options, (db) => backupTo(db, out));
        if (options.outDir && options.keep) await pruneBackups(options.outDir, Number(options.keep));
        if (options.json) {
          printJson({ file: out, ...summary });
          return;
        }
        const rows = summary.header.tables.reduce((n, t) => n + t.rows, 0);
        const decisions = summary.header.checkpoints.decisions?.size ?? 0;
        process.stdout.write(
          `backed up ${rows.toLocaleString('en-GB')} rows of ${summary.header.tables.length} tables to ${out} (${(summary.bytes / 1024).toFixed(0)} KiB) in ${summary.seconds.toFixed(1)} s\nthe decision log held ${decisions.toLocaleString('en-GB')} leaves at its newest checkpoint\n`,
        );
      },
    );

  addLogCheckOptions(program.command('restore'))
    .description(
      'Restore a backup into an empty database, then prove the restored log against the checkpoints kept outside the database (--checkpoint, or every one in ENTITLE_CHECKPOINT_DIR): exits 0 when it extends them all, 1 naming the leaves of any decisions made after the backup and so missing.',
    )
    .addOption(dataDirOption())
    .requiredOption('--from <file>', 'the backup to restore')
    .addOption(new Option('--json', 'print what was restored and whether it verifies as JSON'))
    .action(async (options: { dataDir?: string; from: string; checkpoint: string[]; key?: string; json?: boolean }) => {
      const { verifier, checkpoints } = await logCheckFrom(options);
      const [summary, decisions, audit] = await withDatabase(
        options,
        async (db) => {
          let restored;
          try {
            restored = await restoreFrom(db, resolve(options.from));
          } catch (error) {
            if (error instanceof RestoreError)
              throw new EntitleError('ENTITLE_INPUT_INVALID', 'the backup cannot be restored', [
                { field: '--from', message: error.message },
              ]);
            throw error;
          }
          return [
            restored,
            await verifyChain(db, { verifier, checkpoints }),
            await verifyAuditLog(db, { verifier, checkpoints }),
          ] as const;
        },
        'fresh',
      );
      if (!(decisions.ok && audit.ok)) process.exitCode = EXIT.failed;
      if (options.json)
        return printJson({
          ok: decisions.ok && audit.ok,
          rows: summary.rows,
          takenAt: summary.header.takenAt,
          seconds: summary.seconds,
          decisions,
          auditLog: audit,
        });
      process.stdout.write(
        `restored ${summary.rows.toLocaleString('en-GB')} rows from the backup taken at ${summary.header.takenAt} in ${summary.seconds.toFixed(1)} s\n`,
      );
      if (decisions.ok && audit.ok) {
        process.stdout.write(
          `the restored record verifies: ${decisions.verified.toLocaleString('en-GB')} decisions against ${decisions.checkpoints} signed checkpoints, none missing\n`,
        );
        return;
      }
      if (!decisions.ok) {
        process.stderr.write(`the restored decision log does not verify: ${decisions.problem.message}\n`);
        if (decisions.missing)
          process.stderr.write(
            `decisions missing from the backup: leaves ${decisions.missing.from} to ${decisions.missing.to} (made after it was taken; find them in the WAL archive)\n`,
          );
      }
      if (!audit.ok) process.stderr.write(`the restored audit log does not verify: ${audit.problem}\n`);
    });
}
