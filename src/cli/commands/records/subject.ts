import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { SubjectErasure, SubjectExport } from '../../../subjects/index.ts';
import { connection } from '../../client.ts';
import { need } from '../../options.ts';
import { jsonOption, printJson } from '../../output.ts';

/** `entitle subject export` and `entitle subject erase`: a data subject's rights, through the service. */
export function registerSubject(program: Command): void {
  const subject = program
    .command('subject')
    .description("A data subject's rights over one application: access to everything held, and erasure.");

  subject
    .command('export')
    .description(
      'Everything the service holds about an application (decisions with their inputs and every read of them, kept comparison cases, failed requests), as JSON, for a subject access request. The export is itself recorded, as a read of each decision and in the audit chain (role auditor).',
    )
    .requiredOption('--application <id>', 'the application reference')
    .option('--out <file>', 'write the JSON to this file (it holds personal data: keep it as such)')
    .addOption(jsonOption('everything held (the default without --out)'))
    .action(async (options: { application: string; out?: string; json?: boolean }) => {
      const id = need(options.application, '--application', 'such as APP-0001');
      const held = await (await connection()).get<SubjectExport>(`/v1/subjects?application=${encodeURIComponent(id)}`);
      const text = `${JSON.stringify(held, null, 2)}\n`;
      if (!options.out || options.json) process.stdout.write(text);
      if (!options.out) return;
      await writeFile(options.out, text, { mode: 0o600 });
      if (options.json) return;
      process.stdout.write(
        `wrote ${options.out}: ${held.decisions.length} decision${held.decisions.length === 1 ? '' : 's'}, ${held.releaseComparisons.length} comparison case${held.releaseComparisons.length === 1 ? '' : 's'}, ${held.failedAssessments.length} failed request${held.failedAssessments.length === 1 ? '' : 's'}\n`,
      );
    });

  subject
    .command('erase')
    .description(
      "Erase what may be erased about an application: its decisions' inputs (the record still verifies), the inputs of kept comparison cases, its failed-request records. The decisions and their reasons stay, as the record of what was decided. Recorded in the audit chain with the reason (role admin).",
    )
    .requiredOption('--application <id>', 'the application reference')
    .option('--reason <text>', 'why: the request and its ground, as the audit chain records it')
    .addOption(jsonOption('what was erased'))
    .action(async (options: { application: string; reason?: string; json?: boolean }) => {
      const id = need(options.application, '--application', 'such as APP-0001');
      const reason = need(options.reason, '--reason', 'saying why, such as "erasure request 2026-118, Art. 17(1)(a)"');
      const erased = await (await connection()).post<SubjectErasure>('/v1/subjects/erase', { application: id, reason });
      if (options.json) return printJson(erased);
      process.stdout.write(
        `erased the inputs of ${erased.decisions} decision${erased.decisions === 1 ? '' : 's'}, of ${erased.releaseComparisons} comparison case${erased.releaseComparisons === 1 ? '' : 's'}, and ${erased.failedAssessments} failed request record${erased.failedAssessments === 1 ? '' : 's'}; the decisions and their reasons stay, and still verify\n`,
      );
    });
}
