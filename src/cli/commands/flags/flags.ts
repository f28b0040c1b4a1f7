import type { Command } from 'commander';
import type { AuditEvent } from '../../../audit/index.ts';
import { EntitleError } from '../../../errors/index.ts';
import {
  isStale,
  percentOf,
  type ChangeResult,
  type Flag,
  type FlagChange,
  type FlagState,
} from '../../../flags/index.ts';
import { connection } from '../../client.ts';
import { printJson } from '../../output.ts';

interface Common {
  reason?: string;
  json?: boolean;
}

function stateText(state: FlagState): string {
  return `${state.enabled ? 'on' : 'off'}${state.enabled && state.rolloutBasisPoints < 10_000 ? ` for ${percentOf(state.rolloutBasisPoints)} of applications` : ''}`;
}

function flagLine(flag: Flag, today: string): string {
  const stale = isStale(flag, today) ? '  STALE' : '';
  return `${flag.key.padEnd(24)} ${flag.kind.padEnd(12)} ${stateText(flag).padEnd(34)} owner ${flag.owner.padEnd(20)} expires ${flag.expiresOn}${stale}`;
}

function changeText(change: FlagChange): string {
  return `${change.id}  ${change.flagKey}: ${stateText(change.before)} -> ${stateText(change.after)}  asked by ${change.requestedBy} (${change.reason})  ${change.status}${change.decidedBy ? ` by ${change.decidedBy}` : ''}\n`;
}

function resultText(result: ChangeResult): string {
  if (result.applied)
    return `${result.change.id} applied: ${result.flag.key} is ${stateText(result.flag)}; every instance follows within a second\n`;
  return `${result.change.id} is waiting for approval (production needs a second person): ask someone else to run "entitle flags approve ${result.change.id} --reason ..."\n`;
}

/** A change is recorded with why; refused here, before the service is asked, when there is none. */
function requireReason(reason: string | undefined): void {
  if (!reason?.trim())
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'a flag change needs a reason', [
      { field: '--reason', message: 'give the reason with --reason: the audit chain records why' },
    ]);
}

/** --rollout 12.5 (percent) to basis points, refusing what cannot be stored exactly. */
function basisPoints(text: string): number {
  const n = Number(text);
  const bp = Math.round(n * 100);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100 || Math.abs(bp - n * 100) > 1e-6) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', '--rollout must be a percentage', [
      {
        field: '--rollout',
        message: 'give a percentage from 0 to 100 with at most two decimal places, such as 25 or 12.5',
      },
    ]);
  }
  return bp;
}

function historyLine(event: AuditEvent): string {
  const evidence = event.evidence as {
    change?: string;
    before?: FlagState;
    after?: FlagState;
    approvedBy?: string | null;
  };
  const move =
    evidence.before && evidence.after
      ? `${stateText(evidence.before)} -> ${stateText(evidence.after)}`
      : evidence.after
        ? stateText(evidence.after)
        : '';
  return `${event.at}  #${event.seq}  ${event.action.padEnd(22)} ${event.actor.padEnd(16)} ${evidence.change ?? ''}  ${move}  (${event.reason})\n`;
}

/** A change's id as a path segment. */
const idPath = (id: string) => encodeURIComponent(id.trim().toUpperCase());

/**
 * `entitle flags`: list, change, approve and audit feature flags, through the service's API with
 * the person's own key (entitle login): the service records who, and applies the two-person rule.
 */
export function registerFlags(program: Command): void {
  const flags = program
    .command('flags')
    .description('Feature flags and kill switches: list, change (two people in production), approve, history, stale.');

  flags
    .command('list')
    .description('List every flag: value, rollout, owner, expiry, and whether it is past its expiry.')
    .option('--json', 'print JSON')
    .action(async (options: Common) => {
      const {
        flags: list,
        environment,
        pending,
      } = await (await connection()).get<{ flags: Flag[]; environment: string; pending: FlagChange[] }>('/v1/flags');
      if (options.json) return printJson({ environment, flags: list, pending });
      const today = new Date().toISOString().slice(0, 10);
      process.stdout.write(
        `environment ${environment}${environment === 'production' ? ' (flag changes need a second person)' : ''}\n`,
      );
      for (const flag of list) process.stdout.write(`${flagLine(flag, today)}\n`);
      if (list.length === 0) process.stdout.write('no flags: start "entitle serve" once to seed them\n');
      for (const change of pending) process.stdout.write(`pending ${changeText(change)}`);
    });

  flags
    .command('set')
    .description(
      'Change a flag: on or off, its rollout, owner or expiry. Applied at once, or in production once someone else approves it.',
    )
    .argument('<flag>', 'flag key, such as shadow-evaluation')
    .option('--on', 'switch it on')
    .option('--off', 'switch it off')
    .option(
      '--rollout <percent>',
      'for a release flag: the share of applications it is on for (sticky by applicationId)',
    )
    .option('--owner <team>', 'the team that answers for the flag')
    .option('--expires <date>', 'YYYY-MM-DD after which the flag is stale')
    .option('--reason <text>', 'why: recorded in the audit chain, with you as the person who asked')
    .option('--json', 'print JSON')
    .action(
      async (
        key: string,
        options: Common & { on?: boolean; off?: boolean; rollout?: string; owner?: string; expires?: string },
      ) => {
        if (options.on && options.off)
          throw new EntitleError('ENTITLE_INPUT_INVALID', 'give --on or --off, not both', [
            { field: '--on', message: 'choose one' },
          ]);
        const settings = {
          ...(options.on ? { enabled: true } : {}),
          ...(options.off ? { enabled: false } : {}),
          ...(options.rollout !== undefined ? { rolloutBasisPoints: basisPoints(options.rollout) } : {}),
          ...(options.owner !== undefined ? { owner: options.owner.trim() } : {}),
          ...(options.expires !== undefined ? { expiresOn: options.expires.trim() } : {}),
        };
        if (Object.keys(settings).length === 0) {
          throw new EntitleError('ENTITLE_INPUT_INVALID', 'nothing to change', [
            { field: 'flag', message: 'give --on, --off, --rollout, --owner or --expires' },
          ]);
        }
        requireReason(options.reason);
        const result = await (
          await connection()
        ).post<ChangeResult>(`/v1/flags/${encodeURIComponent(key)}/changes`, { ...settings, reason: options.reason });
        if (options.json) return printJson(result);
        process.stdout.write(resultText(result));
      },
    );

  flags
    .command('approve')
    .description(
      'Approve a flag change someone else asked for (production): it takes effect on every instance within a second.',
    )
    .argument('<change>', 'change id, such as FC-3')
    .option('--reason <text>', 'why you approve: recorded in the audit chain (you must not be the person who asked)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: Common) => {
      requireReason(options.reason);
      const result = await (
        await connection()
      ).post<ChangeResult>(`/v1/flag-changes/${idPath(id)}/approve`, { reason: options.reason });
      if (options.json) return printJson(result);
      process.stdout.write(resultText(result));
    });

  flags
    .command('reject')
    .description('Reject a flag change waiting for approval; the flag stays as it is.')
    .argument('<change>', 'change id, such as FC-3')
    .option('--reason <text>', 'why: recorded in the audit chain')
    .option('--json', 'print JSON')
    .action(async (id: string, options: Common) => {
      requireReason(options.reason);
      const change = await (
        await connection()
      ).post<FlagChange>(`/v1/flag-changes/${idPath(id)}/reject`, { reason: options.reason });
      if (options.json) return printJson(change);
      process.stdout.write(changeText(change));
    });

  flags
    .command('pending')
    .description('List flag changes waiting for a second person.')
    .option('--json', 'print JSON')
    .action(async (options: Common) => {
      const pending = await (await connection()).get<FlagChange[]>('/v1/flag-changes');
      if (options.json) return printJson(pending);
      for (const change of pending) process.stdout.write(changeText(change));
      if (pending.length === 0) process.stdout.write('no flag changes are waiting for approval\n');
    });

  flags
    .command('history')
    .description("A flag's history from the audit chain: who changed it, from what, to what, and why.")
    .argument('<flag>', 'flag key')
    .option('--json', 'print JSON')
    .action(async (key: string, options: Common) => {
      const events = await (await connection()).get<AuditEvent[]>(`/v1/flags/${encodeURIComponent(key)}/history`);
      if (options.json) return printJson(events);
      for (const event of events) process.stdout.write(historyLine(event));
    });

  flags
    .command('stale')
    .description(
      'List flags past their expiry date: remove them from the code, or give them a new date with --expires. Exits 1 when there are any.',
    )
    .option('--json', 'print JSON')
    .action(async (options: Common) => {
      const stale = await (await connection()).get<Flag[]>('/v1/flags/stale');
      if (options.json) printJson(stale);
      else {
        const today = new Date().toISOString().slice(0, 10);
        for (const flag of stale) process.stdout.write(`${flagLine(flag, today)}\n`);
        if (stale.length === 0) process.stdout.write('no flag is past its expiry date\n');
      }
      if (stale.length > 0) process.exitCode = 1;
    });
}
