import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import type { AuditEvent } from '../../../audit/index.ts';
import { EntitleError } from '../../../errors/index.ts';
import type { FreezeWindow } from '../../../freeze-windows/index.ts';
import {
  ruleSetFiles,
  type GateReport,
  type Release,
  type ReleaseStats,
  type RuleSetUnits,
  type ShadowWindow,
} from '../../../releases/index.ts';
import { worklistCsv, type Worklist } from '../../../remediation/index.ts';
import { householdFileOf, poundsText } from '../../../rules/index.ts';
import { formatLondon, londonToInstant } from '../../../uk-time/index.ts';
import { connection } from '../../client.ts';
import { dataDirOption, need } from '../../options.ts';
import { printJson, writeOutput } from '../../output.ts';
import { registerBacktest } from './backtest.ts';
import { describe, describeSample, print } from './describe.ts';

interface Common {
  reason?: string;
  json?: boolean;
}

/** What GET /v1/releases/:id answers. */
interface ReleaseStatus {
  release: Release;
  stats: ReleaseStats;
  gates: GateReport;
  shadowWindow: ShadowWindow;
  samples: { kind: string; applicationId: string; comparison: unknown }[];
  steps: AuditEvent[];
  units: RuleSetUnits;
}

/** The minimum shadow window in words: how long, since when, what is left, and who waived it. */
function shadowWindowText(window: ShadowWindow): string {
  if (window.minutes === 0) return 'no minimum time in shadow here (ENTITLE_SHADOW_MIN_MINUTES)';
  if (window.startedAt === null) return `${window.minutes} minutes in shadow needed; not started`;
  const since = `${window.minutes} minutes from ${formatLondon(window.startedAt)}`;
  if (window.remainingMinutes === 0) return `${since}: over`;
  if (window.waivedBy.length > 0)
    return `${since}: ${window.remainingMinutes} minutes left, waived by ${window.waivedBy.join(' and ')} (emergency)`;
  return `${since}: ${window.remainingMinutes} minutes left, until ${formatLondon(window.endsAt!)}`;
}

function percent(value: string | undefined): number {
  const n = Number(need(value, '--percent', 'such as 5'));
  if (!Number.isFinite(n) || n <= 0 || n > 100)
    throw new EntitleError('ENTITLE_INPUT_INVALID', '--percent must be a percentage', [
      { field: '--percent', message: 'enter a percentage above 0 and up to 100, such as 5 or 0.5' },
    ]);
  return n;
}

const releasePath = (id: string, step = '') => `/v1/releases/${encodeURIComponent(id.trim())}${step}`;

/**
 * Problems in rule-set files the service names as `files.ruleset.yaml:3:4`: shown as the path on
 * this machine, `DIR/ruleset.yaml:3:4`, as `entitle rules check DIR` would show them.
 */
async function inLocalFiles(error: unknown, dir: string): Promise<unknown> {
  if (!(error instanceof EntitleError) || error.code !== 'ENTITLE_CANDIDATE_INVALID') return error;
  // The household model sent may be the one beside the directory, shared by every rule set.
  const household = relative(process.cwd(), await householdFileOf(dir));
  const local = (file: string) =>
    file.startsWith('household.yaml') ? `${household}${file.slice('household.yaml'.length)}` : join(dir, file);
  return new EntitleError(
    error.code,
    error.message.replace(/^the rule-set files sent have/, `${dir} has`),
    error.problems.map((p) =>
      p.field?.startsWith('files.') ? { ...p, field: local(p.field.slice('files.'.length)) } : p,
    ),
  );
}

/**
 * `entitle release`: every step goes through the service's API with the person's own key
 * (entitle login), so the service checks the roles and the two-person rule and records who did it.
 */
export function registerRelease(program: Command): void {
  const release = program
    .command('release')
    .description('Release a rule change safely: validate, shadow, canary, approve, promote, roll back.');

  release
    .command('create')
    .description(
      'Send a candidate rule set to the service as a release: it is compiled and its golden tests run; it is validated if all pass, rejected otherwise. You are its author.',
    )
    .requiredOption('--benefit <benefit>', 'the benefit it decides, such as universal-credit')
    .requiredOption('--rules <dir>', 'the candidate rule-set directory (ruleset.yaml, parameters.yaml, tests/)')
    .requiredOption('--summary <text>', 'what changes and why, in a sentence')
    .option('--expect <file>', 'YAML file declaring the changes it is expected to make (none: it must change nothing)')
    .requiredOption('--effective <when>', 'when it may take effect, UK time: 2026-04-06 or 2026-04-06T09:00')
    .option('--json', 'print the release as JSON')
    .action(
      async (
        options: Common & { benefit: string; rules: string; summary: string; expect?: string; effective: string },
      ) => {
        // Checked here too, so a mistake is named by its option.
        londonToInstant(options.effective, '--effective');
        const files = await ruleSetFiles(options.rules);
        let expectations: string | undefined;
        if (options.expect !== undefined) {
          expectations = await readFile(options.expect, 'utf8').catch((error: NodeJS.ErrnoException) => {
            throw new EntitleError('ENTITLE_INPUT_INVALID', `${options.expect} could not be read`, [
              { field: '--expect', message: `give the declaration's file (${error.code ?? 'unreadable'})` },
            ]);
          });
        }
        const client = await connection();
        const { release: created, golden } = await client
          .post<{ release: Release; golden: { total: number; failed: string[] } }>('/v1/releases', {
            benefit: options.benefit,
            summary: options.summary,
            effective: options.effective,
            files,
            ...(expectations !== undefined ? { expectations, expectationsName: options.expect } : {}),
          })
          .catch(async (error: unknown) => {
            throw await inLocalFiles(error, options.rules);
          });
        print(created, options);
        if (created.state === 'rejected') {
          process.stderr.write(
            golden.total === 0
              ? 'rejected: the rule set has no golden tests\n'
              : `rejected: ${golden.failed.length} of ${golden.total} golden tests fail:\n${golden.failed.map((f) => `  ${f.replace(/\((tests\/[^)]*)\)$/, (_, file: string) => `(${join(options.rules, file)})`)}`).join('\n')}\n`,
          );
          process.exitCode = 1;
        }
      },
    );

  release
    .command('list')
    .description('List releases, oldest first.')
    .option('--benefit <benefit>', 'only this benefit')
    .option('--json', 'print JSON')
    .action(async (options: Common & { benefit?: string }) => {
      const query = options.benefit ? `?benefit=${encodeURIComponent(options.benefit)}` : '';
      const { releases } = await (await connection()).get<{ releases: Release[] }>(`/v1/releases${query}`);
      if (options.json) return printJson(releases);
      for (const r of releases)
        process.stdout.write(`${r.id}  ${r.benefit}  ${r.state.padEnd(11)}  ${r.author}  ${r.summary}\n`);
      if (releases.length === 0) process.stdout.write('no releases\n');
    });

  release
    .command('status')
    .description(
      'Show a release: its state, approvals, the comparisons so far and the gate verdict, and every step taken.',
    )
    .argument('<release>', 'release id')
    .option('--json', 'print JSON')
    .action(async (id: string, options: Common) => {
      const { units, ...status } = await (await connection()).get<ReleaseStatus>(releasePath(id));
      if (options.json) return printJson(status);
      const { stats, gates } = status;
      process.stdout.write(describe(status.release));
      process.stdout.write(
        `  compared     ${gates.compared}: ${stats.identical} identical, ${stats.expected} as expected, ${stats.unexpected} unexpected, ${stats.candidateError} candidate errors; A/A ${stats.aaIdentical} same, ${stats.aaDifferent} different\n`,
      );
      process.stdout.write(
        `  gates        ${gates.verdict}${gates.reasons.length ? `: ${gates.reasons.join('; ')}` : ''}\n`,
      );
      process.stdout.write(`  shadow       ${shadowWindowText(status.shadowWindow)}\n`);
      if (stats.firstUnexpectedAt)
        process.stdout.write(`  first unexpected difference at ${stats.firstUnexpectedAt}\n`);
      for (const sample of status.samples.slice(0, 5))
        process.stdout.write(
          `  sample       ${sample.kind} ${sample.applicationId}: ${describeSample(units, sample.comparison)}\n`,
        );
      if (status.samples.length > 0)
        process.stdout.write(
          `  (${status.samples.length} differing case${status.samples.length === 1 ? '' : 's'} shown with --json; both traces are in release_samples)\n`,
        );
      process.stdout.write('  steps\n');
      for (const e of status.steps)
        process.stdout.write(`    ${e.at}  ${e.action.padEnd(26)} ${e.actor}: ${e.reason}\n`);
    });

  const stepCommand = (name: string, description: string) =>
    release
      .command(name)
      .description(description)
      .argument('<release>', 'release id')
      .option('--reason <text>', 'why: recorded with the step, with you as the person who took it')
      .option('--json', 'print the release as JSON');
  const step = async (id: string, path: string, body: Record<string, unknown>, options: Common) => {
    const { release: after } = await (await connection()).post<{ release: Release }>(releasePath(id, path), body);
    print(after, options);
  };
  const reasonOf = (options: Common) => (options.reason?.trim() ? { reason: options.reason.trim() } : {});

  stepCommand(
    'shadow',
    'Compare the candidate with the active version on a share of live assessments; citizens still get the active decision.',
  )
    .option('--percent <n>', 'share of assessments to compare', '100')
    .option('--preview', 'evaluate both at the release effective date, to preview its impact')
    .action(async (id: string, options: Common & { percent?: string; preview?: boolean }) =>
      step(
        id,
        '/shadow',
        { percent: percent(options.percent), preview: options.preview === true, ...reasonOf(options) },
        options,
      ),
    );

  stepCommand(
    'canary',
    'Let the candidate decide this share of applications (a stable hash of the application reference); only grows.',
  )
    .requiredOption('--percent <n>', 'share of applications, such as 5')
    .action(async (id: string, options: Common & { percent?: string }) =>
      step(id, '/canary', { percent: percent(options.percent), ...reasonOf(options) }, options),
    );

  stepCommand(
    'approve',
    'Approve a release for promotion (never its author, under any key); --emergency approves an emergency release: overriding a freeze window, or cutting short its minimum time in shadow, either of which needs two people.',
  )
    .option('--emergency', 'approve an emergency release: a freeze window overridden, the shadow window cut short')
    .action(async (id: string, options: Common & { emergency?: boolean }) => {
      if (options.emergency) need(options.reason, '--reason', 'saying why it cannot wait');
      await step(id, '/approve', { ...(options.emergency ? { emergency: true } : {}), ...reasonOf(options) }, options);
    });

  stepCommand(
    'promote',
    'Make an approved release that passed its gates active, now or, if its effective time is ahead, at that time.',
  ).action(async (id: string, options: Common) => {
    const result = await (
      await connection()
    ).post<{ release: Release; scheduled: boolean }>(releasePath(id, '/promote'), reasonOf(options));
    print(result.release, options);
    if (!options.json)
      process.stderr.write(
        result.scheduled
          ? `scheduled: becomes active at ${formatLondon(result.release.effectiveAt)}\n`
          : 'active: every instance switches within a second\n',
      );
  });

  stepCommand(
    'rollback',
    'Roll a release back: in shadow or canary it stops at once; if active, its benefit returns to the version it replaced.',
  ).action(async (id: string, options: Common) =>
    step(id, '/rollback', { reason: need(options.reason, '--reason', 'saying why it is rolled back') }, options),
  );

  stepCommand('reject', 'Reject a release that has not decided anything; it can never be promoted.').action(
    async (id: string, options: Common) =>
      step(id, '/reject', { reason: need(options.reason, '--reason', 'saying why it is rejected') }, options),
  );

  release
    .command('affected')
    .description(
      'After a rollback: re-evaluate every application the release decided under the version it returned to; after a promotion: every decision made on a provisional rate the release confirms or corrects. Writes the worklist of those whose outcome changes (CSV and JSON) for caseworkers.',
    )
    .argument('<release>', 'id of a rolled-back or promoted release')
    .option(
      '--out <dir>',
      'directory to write worklist-RELEASE.csv and worklist-RELEASE.json in (default: DATA_DIR/worklists)',
    )
    .option('--json', 'also print the worklist as JSON')
    .addOption(dataDirOption())
    .action(async (id: string, options: Common & { out?: string; dataDir?: string }) => {
      // Re-evaluating every decision the release made can take minutes: the service keeps the
      // connection alive with a line a second until the worklist is ready.
      const worklist = await (
        await connection()
      ).work<Worklist>(releasePath(id, '/affected'), undefined, 'worklist', 'GET');
      const name = `worklist-${worklist.release.id}`;
      const write = (text: string, ext: string) =>
        writeOutput(
          text,
          options.out && join(options.out, `${name}.${ext}`),
          'worklists',
          `${name}.${ext}`,
          options.dataDir,
        );
      const csv = await write(worklistCsv(worklist), 'csv');
      const json = await write(`${JSON.stringify(worklist, null, 2)}\n`, 'json');
      if (options.json) return printJson(worklist);
      process.stdout.write(
        [
          `release ${worklist.release.id} (${worklist.release.benefit}) made ${worklist.decisions} decision${worklist.decisions === 1 ? '' : 's'} for ${worklist.applications} application${worklist.applications === 1 ? '' : 's'}`,
          `re-evaluated with ${worklist.reevaluatedWith}, the version the rollback returned to:`,
          `  ${worklist.unchanged} unchanged`,
          `  ${worklist.underpaid} to pay arrears`,
          `  ${worklist.overpaid} to recover or review an overpayment`,
          `  ${worklist.entitlementChanged} to review entitlement (entitled under one version and not the other)`,
          `  ${worklist.byHand} to reassess by hand (inputs purged, or the version cannot assess them)`,
          `  in all £${poundsText(worklist.totalUnderpaidPence)} underpaid and £${poundsText(worklist.totalOverpaidPence)} overpaid`,
          `worklist: ${csv} and ${json}`,
        ].join('\n') + '\n',
      );
    });

  registerBacktest(release);

  const freeze = release
    .command('freeze')
    .description('Freeze windows: times when no release may become active without an emergency override.');
  freeze
    .command('add')
    .description('Add a freeze window (UK time), recorded as added by you.')
    .requiredOption('--from <when>', 'start, such as 2026-12-22')
    .requiredOption('--to <when>', 'end, such as 2026-12-24T18:00')
    .requiredOption('--reason <text>', 'why, such as "Christmas payment run"')
    .option('--json', 'print JSON')
    .action(async (options: Common & { from: string; to: string; reason: string }) => {
      londonToInstant(options.from, '--from');
      londonToInstant(options.to, '--to');
      const added = await (
        await connection()
      ).post<FreezeWindow>('/v1/freeze-windows', { from: options.from, to: options.to, reason: options.reason });
      if (options.json) return printJson(added);
      process.stdout.write(
        `frozen from ${formatLondon(added.startsAt)} to ${formatLondon(added.endsAt)}: ${added.reason}\n`,
      );
    });
  freeze
    .command('list')
    .description('List freeze windows.')
    .option('--json', 'print JSON')
    .action(async (options: Common) => {
      const { freezeWindows: windows } = await (
        await connection()
      ).get<{ freezeWindows: FreezeWindow[] }>('/v1/freeze-windows');
      if (options.json) return printJson(windows);
      for (const w of windows)
        process.stdout.write(`${formatLondon(w.startsAt)} to ${formatLondon(w.endsAt)}: ${w.reason}\n`);
      if (windows.length === 0) process.stdout.write('no freeze windows\n');
    });
}
