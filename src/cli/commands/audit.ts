import { Option, type Command } from 'commander';
import { verifyAuditChain, verifyAuditLog, verifyControls } from '../../audit/index.ts';
import { verifyChain } from '../../decisions/index.ts';
import { withDatabase } from '../database.ts';
import { EXIT } from '../exit.ts';
import { addLogCheckOptions, logCheckFrom } from '../log-key.ts';
import { dataDirOption } from '../options.ts';

/** `entitle audit verify`. */
export function registerAudit(program: Command): void {
  const verify = program.command('audit').description('Check the record of decisions.').command('verify');
  addLogCheckOptions(verify)
    .description(
      'Rebuild the verifiable logs of decisions and audit events from the records themselves and prove they extend every signed checkpoint: those in the database, and those kept outside it (--checkpoint, or every one in ENTITLE_CHECKPOINT_DIR); and check releases, approvals, active rule sets, flags, the environment and keys against the audit events that made them. Names the first record altered, removed or reordered, the checkpoint the log no longer extends, or the control changed by hand, and exits 1.',
    )
    .addOption(dataDirOption())
    .addOption(new Option('--json', 'print the report as JSON'))
    .action(async (options: { dataDir?: string; checkpoint: string[]; key?: string; json?: boolean }) => {
      const { verifier, checkpoints } = await logCheckFrom(options);
      const [decisions, chain, audit, controls] = await withDatabase(
        options,
        async (db) =>
          [
            await verifyChain(db, { verifier, checkpoints }),
            await verifyAuditChain(db),
            await verifyAuditLog(db, { verifier, checkpoints }),
            await verifyControls(db),
          ] as const,
      );
      const ok = decisions.ok && chain.ok && audit.ok && controls.ok;
      if (!ok) process.exitCode = EXIT.failed;
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ ok, decisions, auditChain: chain, auditLog: audit, controls }, null, 2)}\n`,
        );
        return;
      }
      const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
      if (decisions.ok)
        process.stdout.write(
          `verified ${plural(decisions.verified, 'decision')} against ${plural(decisions.checkpoints, 'signed checkpoint')}: the decision log is intact\nroot ${decisions.head}\n`,
        );
      else {
        process.stderr.write(
          `the decision record does not verify after ${plural(decisions.verified, 'good decision')}: ${decisions.problem.message}${decisions.problem.id ? ` (decision ${decisions.problem.id})` : ''}\n`,
        );
        if (decisions.missing)
          process.stderr.write(`missing leaves: ${decisions.missing.from} to ${decisions.missing.to}\n`);
      }
      if (chain.ok && audit.ok)
        process.stdout.write(
          `verified ${plural(chain.verified, 'audit event')} against ${plural(audit.checkpoints, 'signed checkpoint')}: the audit log is intact\n`,
        );
      if (!chain.ok)
        process.stderr.write(`audit chain broken after ${plural(chain.verified, 'good event')}: ${chain.message}\n`);
      if (controls.ok)
        process.stdout.write(
          `checked ${Object.entries(controls.checked)
            .map(([what, n]) => (n === 1 ? `1 ${what.replace(/s$/, '')}` : `${n} ${what}`))
            .join(', ')} against the audit log: the controls match it\n`,
        );
      else for (const problem of controls.problems) process.stderr.write(`control altered: ${problem}\n`);
      // Not failures: approvals a person should look at (separation of duties, audit/duties.ts).
      for (const review of controls.reviews) process.stdout.write(`to review: ${review}\n`);
      if (!audit.ok) {
        process.stderr.write(`the audit log does not verify: ${audit.problem}\n`);
        if (audit.missing) process.stderr.write(`missing audit leaves: ${audit.missing.from} to ${audit.missing.to}\n`);
      }
    });
}
