import type { Command } from 'commander';
import { verifyAuditChain } from '../../audit/index.ts';
import { verifyChain } from '../../decisions/index.ts';
import { withDatabase } from '../database.ts';
import { EXIT } from '../exit.ts';
import { dataDirOption } from '../options.ts';

/** `entitle audit verify`. */
export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('Check the record of decisions.')
    .command('verify')
    .description(
      'Walk the hash chains of decisions and of release steps; report the first missing, reordered or altered record and exit 1.',
    )
    .addOption(dataDirOption())
    .action(async (options: { dataDir?: string }) => {
      const [report, audit] = await withDatabase(
        options,
        async (db) => [await verifyChain(db), await verifyAuditChain(db)] as const,
      );
      if (report.ok) {
        process.stdout.write(
          `verified ${report.verified} decision${report.verified === 1 ? '' : 's'}: the chain is intact\nhead ${report.head}\n`,
        );
      } else {
        process.stderr.write(
          `chain broken after ${report.verified} good record${report.verified === 1 ? '' : 's'}: ${report.problem.message}${report.problem.id ? ` (decision ${report.problem.id})` : ''}\n`,
        );
        process.exitCode = EXIT.failed;
      }
      if (audit.ok) {
        process.stdout.write(
          `verified ${audit.verified} audit event${audit.verified === 1 ? '' : 's'}: the audit chain is intact\n`,
        );
      } else {
        process.stderr.write(
          `audit chain broken after ${audit.verified} good event${audit.verified === 1 ? '' : 's'}: ${audit.message}\n`,
        );
        process.exitCode = EXIT.failed;
      }
    });
}
