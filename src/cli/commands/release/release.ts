import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { auditEventsFor } from '../../../audit/index.ts';
import { storedBundle } from '../../../decisions/index.ts';
import { EntitleError } from '../../../errors/index.ts';
import { addFreezeWindow, freezeWindows } from '../../../freeze-windows/index.ts';
import {
  approveRelease,
  candidateFromDir,
  createRelease,
  gateSettingsFrom,
  getRelease,
  judge,
  listReleases,
  promoteRelease,
  readStats,
  rejectRelease,
  releaseSamples,
  rollbackRelease,
  setCanary,
  startShadow,
} from '../../../releases/index.ts';
import { affectedApplications, worklistCsv } from '../../../remediation/index.ts';
import { poundsText, ruleSetFromBundle } from '../../../rules/index.ts';
import type { Database } from '../../../store/index.ts';
import { formatLondon, londonToInstant } from '../../../uk-time/index.ts';
import { withDatabase } from '../../database.ts';
import { actorOption, dataDirOption } from '../../options.ts';
import { registerBacktest } from './backtest.ts';
import { describe, describeSample, print } from './describe.ts';
import { printJson } from '../../output.ts';

interface Common {
  actor?: string;
  reason?: string;
  dataDir?: string;
  json?: boolean;
}

function need(value: string | undefined, field: string, example: string): string {
  if (value === undefined || value.trim() === '') {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${field} is required`, [
      { field, message: `give ${field} ${example}` },
    ]);
  }
  return value.trim();
}

function percent(value: string | undefined): number {
  const n = Number(need(value, '--percent', 'such as 5'));
  if (!Number.isFinite(n))
    throw new EntitleError('ENTITLE_INPUT_INVALID', '--percent must be a number', [
      { field: '--percent', message: 'enter a percentage such as 5 or 0.5' },
    ]);
  return n;
}

export function registerRelease(program: Command): void {
  const release = program
    .command('release')
    .description('Release a rule change safely: validate, shadow, canary, approve, promote, roll back.');

  const withActor = (command: Command) =>
    command
      .addOption(actorOption('recorded on the step, and checked by the two-person rule'))
      .addOption(dataDirOption());

  withActor(
    release
      .command('create')
      .description(
        'Record a candidate rule set as a release: it is compiled and its golden tests run; it is validated if all pass, rejected otherwise.',
      )
      .requiredOption('--benefit <benefit>', 'the benefit it decides, such as universal-credit')
      .requiredOption('--rules <dir>', 'the candidate rule-set directory')
      .requiredOption('--summary <text>', 'what changes and why, in a sentence')
      .option(
        '--expect <file>',
        'YAML file declaring the changes it is expected to make (none: it must change nothing)',
      )
      .requiredOption('--effective <when>', 'when it may take effect, UK time: 2026-04-06 or 2026-04-06T09:00')
      .option('--json', 'print the release as JSON'),
  ).action(
    async (
      options: Common & { benefit: string; rules: string; summary: string; expect?: string; effective: string },
    ) => {
      const actor = need(options.actor, '--actor', 'or ENTITLE_ACTOR: your name');
      const effectiveAt = londonToInstant(options.effective, '--effective');
      const candidate = await candidateFromDir(
        options.rules,
        options.benefit,
        options.expect ? { file: options.expect } : undefined,
      );
      const created = await withDatabase(
        options,
        (db) => createRelease(db, { ...candidate, author: actor, summary: options.summary, effectiveAt }),
        'migrate',
      );
      const { failed, total } = candidate.golden;
      print(created, options);
      if (created.state === 'rejected') {
        process.stderr.write(
          total === 0
            ? 'rejected: the rule set has no golden tests\n'
            : `rejected: ${failed.length} of ${total} golden tests fail:\n${failed.map((f) => `  ${f}`).join('\n')}\n`,
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
    .addOption(dataDirOption())
    .action(async (options: Common & { benefit?: string }) => {
      const releases = await withDatabase(options, (db) => listReleases(db, options.benefit));
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
    .addOption(dataDirOption())
    .action(async (id: string, options: Common) => {
      const status = await withDatabase(options, async (db: Database) => {
        const found = await getRelease(db, id);
        const stats = await readStats(db, id);
        const bundle = await storedBundle(db, found.rulesetHash);
        return {
          release: found,
          program: ruleSetFromBundle(bundle, found.rulesetHash).program,
          stats,
          gates: judge(stats, gateSettingsFrom(process.env)),
          samples: await releaseSamples(db, id),
          steps: await auditEventsFor(db, id),
        };
      });
      const { program, ...shown } = status;
      if (options.json) return printJson(shown);
      const { stats, gates } = status;
      process.stdout.write(describe(status.release));
      process.stdout.write(
        `  compared     ${gates.compared}: ${stats.identical} identical, ${stats.expected} as expected, ${stats.unexpected} unexpected, ${stats.candidateError} candidate errors; A/A ${stats.aaIdentical} same, ${stats.aaDifferent} different\n`,
      );
      process.stdout.write(
        `  gates        ${gates.verdict}${gates.reasons.length ? `: ${gates.reasons.join('; ')}` : ''}\n`,
      );
      if (stats.firstUnexpectedAt)
        process.stdout.write(`  first unexpected difference at ${stats.firstUnexpectedAt}\n`);
      for (const sample of status.samples.slice(0, 5))
        process.stdout.write(
          `  sample       ${sample.kind} ${sample.applicationId}: ${describeSample(program, sample.comparison)}\n`,
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
    withActor(
      release
        .command(name)
        .description(description)
        .argument('<release>', 'release id')
        .option('--reason <text>', 'why: recorded with the step')
        .option('--json', 'print the release as JSON'),
    );

  stepCommand(
    'shadow',
    'Compare the candidate with the active version on a share of live assessments; citizens still get the active decision.',
  )
    .option('--percent <n>', 'share of assessments to compare', '100')
    .option('--preview', 'evaluate both at the release effective date, to preview its impact')
    .action(async (id: string, options: Common & { percent?: string; preview?: boolean }) => {
      const actor = need(options.actor, '--actor', 'or ENTITLE_ACTOR: your name');
      print(
        await withDatabase(options, (db) =>
          startShadow(
            db,
            id,
            { sharePercent: percent(options.percent), preview: options.preview === true },
            actor,
            options.reason ?? 'shadow evaluation',
          ),
        ),
        options,
      );
    });

  stepCommand(
    'canary',
    'Let the candidate decide this share of applications (a stable hash of the application reference); only grows.',
  )
    .requiredOption('--percent <n>', 'share of applications, such as 5')
    .action(async (id: string, options: Common & { percent?: string }) => {
      const actor = need(options.actor, '--actor', 'or ENTITLE_ACTOR: your name');
      print(
        await withDatabase(options, (db) =>
          setCanary(db, id, percent(options.percent), actor, options.reason ?? `canary at ${options.percent}%`),
        ),
        options,
      );
    });

  stepCommand(
    'approve',
    'Approve a release for promotion (never by its author); --emergency approves overriding a freeze window, which needs two people.',
  )
    .option('--emergency', 'approve an override of a freeze window')
    .action(async (id: string, options: Common & { emergency?: boolean }) => {
      const actor = need(options.actor, '--actor', 'or ENTITLE_ACTOR: your name');
      const reason = options.emergency
        ? need(options.reason, '--reason', 'saying why the freeze must be overridden')
        : (options.reason ?? 'approved');
      print(
        await withDatabase(options, (db) =>
          approveRelease(db, id, options.emergency ? 'emergency' : 'promotion', actor, reason),
        ),
        options,
      );
    });

  stepCommand(
    'promote',
    'Make an approved release that passed its gates active, now or, if its effective time is ahead, at that time.',
  ).action(async (id: string, options: Common) => {
    const actor = need(options.actor, '--actor', 'or ENTITLE_ACTOR: your name');
    const result = await withDatabase(options, (db) =>
      promoteRelease(db, id, actor, options.reason ?? 'promoted', gateSettingsFrom(process.env)),
    );
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
  ).action(async (id: string, options: Common) => {
    const actor = need(options.actor, '--actor', 'or ENTITLE_ACTOR: your name');
    print(
      await withDatabase(options, (db) =>
        rollbackRelease(db, id, actor, need(options.reason, '--reason', 'saying why it is rolled back')),
      ),
      options,
    );
  });

  stepCommand('reject', 'Reject a release that has not decided anything; it can never be promoted.').action(
    async (id: string, options: Common) => {
      const actor = need(options.actor, '--actor', 'or ENTITLE_ACTOR: your name');
      print(
        await withDatabase(options, (db) =>
          rejectRelease(db, id, actor, need(options.reason, '--reason', 'saying why it is rejected')),
        ),
        options,
      );
    },
  );

  release
    .command('affected')
    .description(
      'After a rollback: re-evaluate every application the release decided under the version now active, and write the worklist of those whose outcome changes (CSV and JSON) for caseworkers.',
    )
    .argument('<release>', 'id of a rolled-back release')
    .option('--out <dir>', 'directory to write worklist-RELEASE.csv and worklist-RELEASE.json in', '.')
    .option('--json', 'also print the worklist as JSON')
    .addOption(actorOption('recorded on the step, and checked by the two-person rule'))
    .addOption(dataDirOption())
    .action(async (id: string, options: Common & { out: string }) => {
      const actor = need(options.actor, '--actor', 'or ENTITLE_ACTOR: your name');
      const worklist = await withDatabase(options, (db) => affectedApplications(db, id, actor));
      await mkdir(options.out, { recursive: true });
      const base = join(options.out, `worklist-${worklist.release.id}`);
      await writeFile(`${base}.csv`, worklistCsv(worklist));
      await writeFile(`${base}.json`, `${JSON.stringify(worklist, null, 2)}\n`);
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
          `worklist: ${base}.csv and ${base}.json`,
        ].join('\n') + '\n',
      );
    });

  registerBacktest(release);

  const freeze = release
    .command('freeze')
    .description('Freeze windows: times when no release may become active without an emergency override.');
  freeze
    .command('add')
    .description('Add a freeze window (UK time).')
    .requiredOption('--from <when>', 'start, such as 2026-12-22')
    .requiredOption('--to <when>', 'end, such as 2026-12-24T18:00')
    .requiredOption('--reason <text>', 'why, such as "Christmas payment run"')
    .addOption(actorOption('recorded on the step, and checked by the two-person rule'))
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (options: Common & { from: string; to: string; reason: string }) => {
      const actor = need(options.actor, '--actor', 'or ENTITLE_ACTOR: your name');
      const window = {
        startsAt: londonToInstant(options.from, '--from'),
        endsAt: londonToInstant(options.to, '--to'),
        reason: options.reason,
      };
      const added = await withDatabase(options, (db) => addFreezeWindow(db, window, actor), 'migrate');
      if (options.json) return printJson(added);
      process.stdout.write(
        `frozen from ${formatLondon(added.startsAt)} to ${formatLondon(added.endsAt)}: ${added.reason}\n`,
      );
    });
  freeze
    .command('list')
    .description('List freeze windows.')
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (options: Common) => {
      const windows = await withDatabase(options, freezeWindows);
      if (options.json) return printJson(windows);
      for (const w of windows)
        process.stdout.write(`${formatLondon(w.startsAt)} to ${formatLondon(w.endsAt)}: ${w.reason}\n`);
      if (windows.length === 0) process.stdout.write('no freeze windows\n');
    });
}
