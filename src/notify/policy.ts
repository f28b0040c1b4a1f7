import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Problem } from '../errors/index.ts';
import { parseYamlSource } from '../rules/index.ts';
import { NotifyError, type NotificationPriority } from './notifier.ts';

/** The committed policy, wherever the service is started from. */
export const DEFAULT_ESCALATION_POLICY = fileURLToPath(
  new URL('../../deploy/incidents/escalation-policy.yml', import.meta.url),
);
const DEFAULT_DISPLAY = 'deploy/incidents/escalation-policy.yml';

export type Env = Readonly<Record<string, string | undefined>>;

export interface WebhookChannel {
  readonly type: 'webhook';
  /** The environment variable holding the webhook URL; the URL itself is a secret. */
  readonly urlFrom: string;
}

export interface EmailChannel {
  readonly type: 'email';
  /** The environment variable holding the smtp:// or smtps:// URL (with its password). */
  readonly smtpUrlFrom: string;
  readonly from: string;
  readonly to: readonly string[];
}

export type Channel = WebhookChannel | EmailChannel;

export interface PriorityPolicy {
  /** Told at once when an incident is declared, of a higher priority or an alert firing again, of overdue updates, and of the resolution. */
  readonly notify: readonly string[];
  /** Minutes without acknowledgement before `escalateTo` is told; null: never escalated. */
  readonly escalateAfterMinutes: number | null;
  readonly escalateTo: readonly string[];
  /** How often the people following it expect an update; null: no regular updates. */
  readonly updateEveryMinutes: number | null;
  /** How soon someone must be working on it. */
  readonly respondWithinMinutes: number;
}

export interface EscalationPolicy {
  /** The file it came from, as shown in messages. */
  readonly file: string;
  readonly channels: Readonly<Record<string, Channel>>;
  readonly priorities: Readonly<Record<NotificationPriority, PriorityPolicy>>;
}

const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;

const minutes = z
  .int({ error: 'write a whole number of minutes, such as 15' })
  .positive({ error: 'write a whole number of minutes above 0' });
const minutesOrNone = z
  .int({ error: 'write a whole number of minutes, such as 15, or leave the setting out for none' })
  .positive({ error: 'write a whole number of minutes above 0' });
const envName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, {
  error:
    'give the name of the environment variable that holds the URL, such as ENTITLE_ONCALL_WEBHOOK_URL, never the URL itself',
});
const address = z.email({ error: 'write an email address, such as entitle-team@example.gov.uk' });
const channelNames = z
  .array(z.string().min(1), { error: 'list channel names, such as [on-call]' })
  .min(1, { error: 'list at least one channel' });

const priority = z.strictObject({
  notify: channelNames,
  escalateAfterMinutes: minutesOrNone.optional(),
  escalateTo: channelNames.optional(),
  updateEveryMinutes: minutesOrNone.optional(),
  respondWithinMinutes: minutes,
});

const schema = z.strictObject({
  channels: z.record(
    z.string().min(1),
    z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('webhook'), urlFrom: envName }),
      z.strictObject({
        type: z.literal('email'),
        smtpUrlFrom: envName,
        from: address,
        to: z.array(address).min(1, { error: 'list at least one address' }),
      }),
    ]),
  ),
  priorities: z.strictObject({ P1: priority, P2: priority, P3: priority, P4: priority }),
});

/** `priorities.P1.notify[0]`: how a problem names the setting. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

const EXPECTED: Readonly<Record<string, string>> = {
  object: 'a set of settings',
  record: 'a set of named entries',
  array: 'a list, such as [on-call]',
  string: 'text',
};

function plainIssue(issue: z.core.$ZodIssue, data: unknown): string {
  switch (issue.code) {
    case 'invalid_type': {
      // Zod leaves the input out of its issues, so whether the setting is there is looked up.
      const value = issue.path.reduce<unknown>(
        (node, key) => (node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined),
        data,
      );
      if (value === undefined) return 'missing: add it (see docs/notifications.md)';
      return issue.message.startsWith('Invalid input')
        ? `should be ${EXPECTED[issue.expected] ?? issue.expected}`
        : issue.message;
    }
    case 'unrecognized_keys':
      return `${issue.keys.join(', ')} ${issue.keys.length === 1 ? 'is not a setting' : 'are not settings'} here: check the spelling (see docs/notifications.md)`;
    case 'invalid_union':
      return 'must be webhook or email';
    default:
      return issue.message;
  }
}

/** Channel names that are not channels, and half an escalation: what the schema alone cannot see. */
function referenceProblems(data: unknown): { path: (string | number)[]; message: string }[] {
  const root = (data ?? {}) as { channels?: unknown; priorities?: unknown };
  const channels = root.channels && typeof root.channels === 'object' ? Object.keys(root.channels) : [];
  const known = channels.length === 0 ? 'no channels are defined' : `the channels are ${channels.join(', ')}`;
  const problems: { path: (string | number)[]; message: string }[] = [];
  for (const priority of PRIORITIES) {
    const settings = (root.priorities as Record<string, Record<string, unknown> | undefined> | undefined)?.[priority];
    if (!settings || typeof settings !== 'object') continue;
    for (const key of ['notify', 'escalateTo']) {
      const names = settings[key];
      if (!Array.isArray(names)) continue;
      names.forEach((name: unknown, i) => {
        if (typeof name === 'string' && !channels.includes(name))
          problems.push({
            path: ['priorities', priority, key, i],
            message: `there is no channel named "${name}": ${known}`,
          });
      });
    }
    const after = settings.escalateAfterMinutes !== undefined;
    const to = settings.escalateTo !== undefined;
    if (after && !to)
      problems.push({
        path: ['priorities', priority, 'escalateAfterMinutes'],
        message: 'name the channels to escalate to in escalateTo, or remove escalateAfterMinutes',
      });
    if (to && !after)
      problems.push({
        path: ['priorities', priority, 'escalateTo'],
        message: 'say after how many minutes without acknowledgement in escalateAfterMinutes, or remove escalateTo',
      });
  }
  return problems;
}

/** Reads a policy from YAML text; throws a NotifyError listing every problem, each with its setting and place. */
export function parseEscalationPolicy(file: string, text: string): EscalationPolicy {
  const source = parseYamlSource(file, text);
  if (source.problems.length > 0) throw invalid(file, source.problems);
  const result = schema.safeParse(source.data ?? {});
  const found = [
    ...(result.success
      ? []
      : result.error.issues.map((issue) => ({
          path: issue.path as (string | number)[],
          message: plainIssue(issue, source.data),
        }))),
    ...referenceProblems(source.data),
  ];
  const problems: Problem[] = found.map(({ path, message }) => {
    const field = fieldPath(path);
    return { ...source.locator.at(path, `${field || 'the file'}: ${message}`), field };
  });
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  if (!result.success || problems.length > 0) throw invalid(file, problems);
  const priorities = Object.fromEntries(
    PRIORITIES.map((p): [NotificationPriority, PriorityPolicy] => {
      const { notify, escalateAfterMinutes, escalateTo, updateEveryMinutes, respondWithinMinutes } =
        result.data.priorities[p];
      return [
        p,
        {
          notify,
          escalateAfterMinutes: escalateAfterMinutes ?? null,
          escalateTo: escalateTo ?? [],
          updateEveryMinutes: updateEveryMinutes ?? null,
          respondWithinMinutes,
        },
      ];
    }),
  ) as Record<NotificationPriority, PriorityPolicy>;
  return { file, channels: result.data.channels, priorities };
}

/** Reads the policy named by ENTITLE_ESCALATION_POLICY, or the committed one. */
export async function loadEscalationPolicy(env: Env): Promise<EscalationPolicy> {
  const path = env.ENTITLE_ESCALATION_POLICY || DEFAULT_ESCALATION_POLICY;
  const display = env.ENTITLE_ESCALATION_POLICY || DEFAULT_DISPLAY;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new NotifyError(
      'ENTITLE_ESCALATION_POLICY_INVALID',
      `the escalation policy ${display} could not be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      [
        {
          field: 'ENTITLE_ESCALATION_POLICY',
          message: `set ENTITLE_ESCALATION_POLICY to the path of a policy file, or unset it to use ${DEFAULT_DISPLAY}`,
        },
      ],
    );
  }
  return parseEscalationPolicy(display, text);
}

function invalid(file: string, problems: readonly Problem[]): NotifyError {
  return new NotifyError(
    'ENTITLE_ESCALATION_POLICY_INVALID',
    `the escalation policy ${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
    problems,
  );
}
