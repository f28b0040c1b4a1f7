import { Option, type Command } from 'commander';
import { EntitleError } from '../../../errors/index.ts';
import {
  AUDIENCES,
  impactMarkdown,
  timelineMarkdown,
  type Audience,
  type FilledMessage,
  type Impact,
  type Timeline,
} from '../../../incident-reports/index.ts';
import {
  INCIDENT_ROLES,
  PRIORITY_DEFINITIONS,
  priorityTimings,
  STATUSES,
  type IncidentEntry,
  type StoredIncident,
} from '../../../incidents/index.ts';
import { londonToInstant, ukTimeText } from '../../../uk-time/index.ts';
import { connection } from '../../client.ts';
import { jsonOption, printJson, writeOutput } from '../../output.ts';
import { describe, overdueText } from './describe.ts';

interface Common {
  json?: boolean;
}

/** An incident id as a path segment. */
const path = (id: string) => `/v1/incidents/${encodeURIComponent(id.trim())}`;

function list(text: string | undefined): string[] | undefined {
  return text === undefined
    ? undefined
    : text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
}

/** "2026-11-22T03:10" in UK time, or an instant with Z or an offset. */
function instant(text: string | undefined, field: string): string | undefined {
  return text === undefined ? undefined : londonToInstant(text, field);
}

export function registerIncident(program: Command): void {
  const incident = program
    .command('incident')
    .description(
      'Run an incident: declare, update, assign, resolve; its timeline, citizen impact, communications and review.',
    );
  // Every step goes through the service's API with the person's own key (entitle login): the
  // service records the person holding the key as who did it.
  const withActor = (command: Command) => command;

  withActor(
    incident
      .command('declare')
      .description('Declare an incident. Responders are told through the escalation policy by the running service.')
      .requiredOption('--title <text>', 'what is wrong, for citizens, in a line')
      .requiredOption(
        '--priority <P1-P4>',
        `P1: ${PRIORITY_DEFINITIONS.P1.meaning}. P2: ${PRIORITY_DEFINITIONS.P2.meaning}. P3: ${PRIORITY_DEFINITIONS.P3.meaning}. P4: ${PRIORITY_DEFINITIONS.P4.meaning}`,
      )
      .option('--text <text>', 'what is known so far')
      .option(
        '--citizen-message <text>',
        'what the public status page says (see "entitle incident comms ID --audience citizens")',
      )
      .option('--benefits <list>', 'benefits affected, comma-separated (default all)')
      .option('--journeys <list>', 'citizen journeys affected, by SLO id, comma-separated (default all)')
      .option('--started <time>', 'when citizens were first affected, UK time such as 2026-11-22T03:10 (default now)')
      .option('--lead <name>', 'the incident lead')
      .option('--comms-lead <name>', 'the communications lead')
      .option('--runbook <path>', 'the runbook being followed')
      .option('--json', 'print JSON'),
  ).action(
    async (
      options: Common & {
        title: string;
        priority: string;
        text?: string;
        citizenMessage?: string;
        benefits?: string;
        journeys?: string;
        started?: string;
        lead?: string;
        commsLead?: string;
        runbook?: string;
      },
    ) => {
      const startedAt = instant(options.started, '--started');
      const { incident: declared } = await (
        await connection()
      ).post<{ incident: StoredIncident }>('/v1/incidents', {
        title: options.title,
        priority: options.priority,
        ...(options.text ? { text: options.text } : {}),
        ...(options.citizenMessage ? { citizenMessage: options.citizenMessage } : {}),
        ...(options.benefits ? { benefits: list(options.benefits)! } : {}),
        ...(options.journeys ? { journeys: list(options.journeys)! } : {}),
        ...(startedAt ? { startedAt } : {}),
        ...(options.lead ? { lead: options.lead } : {}),
        ...(options.commsLead ? { communicationsLead: options.commsLead } : {}),
        ...(options.runbook ? { runbook: options.runbook } : {}),
      });
      if (options.json) return printJson(declared);
      process.stdout.write(`declared ${declared.id} (${declared.priority}): ${declared.title}\n`);
      if (!declared.roles.some((r) => r.role === 'incident-lead'))
        process.stderr.write(
          `next: name an incident lead with "entitle incident assign ${declared.id} --role incident-lead --person NAME"\n`,
        );
    },
  );

  withActor(
    incident
      .command('update')
      .description(
        'Post an update, change the status (investigating, identified, monitoring, resolved, reviewed) or priority, or set the citizen message.',
      )
      .argument('<id>', 'the incident, such as INC-7')
      .option('--text <text>', 'the update, as people following it read it')
      .addOption(new Option('--status <status>', 'the new status').choices([...STATUSES]))
      .option('--priority <P1-P4>', 'a new priority')
      .option('--citizen-message <text>', 'what the public status page says; "" removes it')
      .option('--runbook <path>', 'the runbook being followed')
      .option('--journeys <list>', 'citizen journeys affected, by SLO id')
      .option('--benefits <list>', 'benefits affected')
      .option('--started <time>', 'when citizens were first affected, UK time')
      .option('--release <id>', 'a release involved: its decisions join the impact')
      .option('--json', 'print JSON'),
  ).action(
    async (
      id: string,
      options: Common & {
        text?: string;
        status?: string;
        priority?: string;
        citizenMessage?: string;
        runbook?: string;
        journeys?: string;
        benefits?: string;
        started?: string;
        release?: string;
      },
    ) => {
      const startedAt = instant(options.started, '--started');
      const { incident: updated } = await (
        await connection()
      ).post<{ incident: StoredIncident }>(`${path(id)}/updates`, {
        ...(options.text !== undefined ? { text: options.text } : {}),
        ...(options.status !== undefined ? { status: options.status } : {}),
        ...(options.priority !== undefined ? { priority: options.priority } : {}),
        ...(options.citizenMessage !== undefined ? { citizenMessage: options.citizenMessage } : {}),
        ...(options.runbook !== undefined ? { runbook: options.runbook } : {}),
        ...(options.journeys !== undefined ? { journeys: list(options.journeys)! } : {}),
        ...(options.benefits !== undefined ? { benefits: list(options.benefits)! } : {}),
        ...(startedAt ? { startedAt } : {}),
        ...(options.release ? { releaseIds: [options.release] } : {}),
      });
      process.stdout.write(
        options.json
          ? `${JSON.stringify(updated, null, 2)}\n`
          : `${updated.id} is ${updated.status} (${updated.priority}); update recorded\n`,
      );
    },
  );

  withActor(
    incident
      .command('assign')
      .description('Give a person a role: one incident lead and one communications lead; any number of others.')
      .argument('<id>', 'the incident')
      .addOption(new Option('--role <role>', 'the role').choices([...INCIDENT_ROLES]).makeOptionMandatory())
      .requiredOption('--person <name>', 'who takes it')
      .addOption(jsonOption('the incident')),
  ).action(async (id: string, options: Common & { role: string; person: string }) => {
    const { incident: updated } = await (
      await connection()
    ).post<{ incident: StoredIncident }>(`${path(id)}/roles`, { role: options.role, person: options.person });
    if (options.json) return printJson(updated);
    process.stdout.write(`${updated.id}: ${options.person} is ${options.role.replace('-', ' ')}\n`);
  });

  withActor(
    incident
      .command('ack')
      .description('Acknowledge an incident: you have it, and escalation stops.')
      .argument('<id>', 'the incident')
      .addOption(jsonOption('the incident')),
  ).action(async (id: string, options: Common) => {
    const { incident: updated } = await (
      await connection()
    ).post<{ incident: StoredIncident }>(`${path(id)}/acknowledge`, {});
    if (options.json) return printJson(updated);
    process.stdout.write(`${updated.id} acknowledged by ${updated.acknowledgedBy}\n`);
  });

  withActor(
    incident
      .command('resolve')
      .description('Resolve an incident once the fix is verified. The review is then due within 5 working days.')
      .argument('<id>', 'the incident')
      .requiredOption('--text <text>', 'how it was resolved and how the fix was verified')
      .option(
        '--citizen-message <text>',
        'the resolution notice for the status page (default: the filled resolution template)',
      )
      .addOption(jsonOption('the incident')),
  ).action(async (id: string, options: Common & { text: string; citizenMessage?: string }) => {
    const { incident: resolved } = await (
      await connection()
    ).post<{ incident: StoredIncident }>(`${path(id)}/updates`, {
      status: 'resolved',
      text: options.text,
      ...(options.citizenMessage !== undefined ? { citizenMessage: options.citizenMessage } : {}),
    });
    if (options.json) return printJson(resolved);
    process.stdout.write(
      `${resolved.id} resolved; the post-incident review is due by ${ukTimeText(resolved.reviewDueAt!)} (UK time): "entitle incident review ${resolved.id}"\n`,
    );
  });

  incident
    .command('show')
    .description('Show an incident: its fields, roles, what is overdue, and every entry.')
    .argument('<id>', 'the incident')
    .option('--json', 'print JSON')
    .action(async (id: string, options: Common) => {
      const timing = await priorityTimings(process.env);
      const shown = await (
        await connection()
      ).get<{ incident: StoredIncident; overdue: unknown; entries: IncidentEntry[] }>(path(id));
      if (options.json) return printJson(shown);
      process.stdout.write(describe(shown.incident, shown.entries, timing(shown.incident.priority)));
    });

  incident
    .command('list')
    .description(
      'List open incidents (or all), newest first, with what is overdue: acknowledgement, the next update (P1 hourly, P2 every 2 hours), or the review.',
    )
    .option('--all', 'include resolved and reviewed incidents')
    .option('--json', 'print JSON')
    .action(async (options: Common & { all?: boolean }) => {
      const timing = await priorityTimings(process.env);
      const { incidents: shown } = await (
        await connection()
      ).get<{ incidents: StoredIncident[] }>(`/v1/incidents${options.all ? '' : '?unreviewed=true'}`);
      if (options.json) return printJson(shown);
      if (shown.length === 0)
        return void process.stdout.write(
          options.all ? 'no incidents\n' : 'no open incidents, and none awaiting review\n',
        );
      for (const i of shown) {
        const lead = i.roles.find((r) => r.role === 'incident-lead')?.person ?? 'no lead';
        const late = overdueText(i, new Date(), timing(i.priority));
        process.stdout.write(
          `${i.id.padEnd(7)} ${i.priority}  ${i.status.padEnd(13)} ${ukTimeText(i.declaredAt)}  ${lead.padEnd(16)} ${i.title}${late ? `  [${late}]` : ''}\n`,
        );
      }
    });

  incident
    .command('timeline')
    .description(
      'The timeline rebuilt from the records: incident entries, alerts, release steps and rollbacks, deploys, and per-minute counts of decisions and failed assessments.',
    )
    .argument('<id>', 'the incident')
    .addOption(new Option('--format <format>', 'output format').choices(['markdown', 'json']).default('markdown'))
    .addOption(jsonOption('the timeline (the same as --format json)'))
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (id: string, options: Common & { format: 'markdown' | 'json'; out?: string; json?: boolean }) => {
      const timeline = await (await connection()).get<Timeline>(`${path(id)}/timeline`);
      const text =
        options.format === 'json' || options.json
          ? `${JSON.stringify(timeline, null, 2)}\n`
          : `# Timeline: ${timeline.incident.id}, ${timeline.incident.title}\n\n${timelineMarkdown(timeline)}`;
      if (!options.out) return void process.stdout.write(text);
      process.stderr.write(
        `wrote ${await writeOutput(text, options.out, 'timelines', `${timeline.incident.id}.md`)}\n`,
      );
    });

  withActor(
    incident
      .command('impact')
      .description(
        'Citizen impact computed from the records: assessments that failed and whether the application was decided later, decisions made by the releases involved, and the applications to recontact or correct.',
      )
      .argument('<id>', 'the incident')
      .option('--recontact', 'print only the application references to recontact, one a line')
      .option('--json', 'print JSON'),
  ).action(async (id: string, options: Common & { recontact?: boolean }) => {
    const impact = await (await connection()).get<Impact>(`${path(id)}/impact`);
    if (options.json) return printJson(impact);
    if (options.recontact)
      return void process.stdout.write(
        impact.recontact.map((r) => `${r.applicationId}\t${r.benefit}\t${r.firstFailedAt}\n`).join(''),
      );
    process.stdout.write(impactMarkdown(impact));
  });

  withActor(
    incident
      .command('comms')
      .description(
        'Print a communication filled from the incident: the citizen status message, the stakeholder and ministerial update, the caseworker briefing, or the resolution notice (templates in communications/).',
      )
      .argument('<id>', 'the incident')
      .addOption(new Option('--audience <audience>', 'who it is for').choices([...AUDIENCES]).makeOptionMandatory())
      .option('--publish', 'citizens only: also set it as the message on the public status page')
      .addOption(jsonOption('the message, its template and version')),
  ).action(async (id: string, options: Common & { audience: Audience; publish?: boolean }) => {
    if (options.publish && options.audience !== 'citizens') {
      throw new EntitleError('ENTITLE_INPUT_INVALID', 'only the citizen message goes on the status page', [
        {
          field: '--publish',
          message: 'use --publish with --audience citizens (once resolved, it is the resolution notice)',
        },
      ]);
    }
    const client = await connection();
    const message = await client.get<FilledMessage>(`${path(id)}/comms?audience=${options.audience}`);
    if (options.publish) await client.post(`${path(id)}/updates`, { citizenMessage: message.text.trim() });
    if (options.json) return printJson({ ...message, published: Boolean(options.publish) });
    process.stdout.write(message.text);
    process.stderr.write(
      `(from ${message.template}, version ${message.version}${options.publish ? '; published on the status page' : ''})\n`,
    );
  });

  withActor(
    incident
      .command('review')
      .description(
        'Write the post-incident review (Markdown), prefilled with the summary, impact figures, timeline and runbook, with the sections only people can write left empty. Due within 5 working days of resolution.',
      )
      .argument('<id>', 'the incident')
      .option('--out <file>', 'where to write it (default: post-incident-reviews/ID.md in the data directory)')
      .addOption(jsonOption('where it was written')),
  ).action(async (id: string, options: Common & { out?: string }) => {
    const client = await connection();
    const { incident: found } = await client.get<{ incident: StoredIncident }>(path(id));
    const text = await client.text('POST', `${path(id)}/review`);
    const written = await writeOutput(text, options.out, 'post-incident-reviews', `${found.id}.md`);
    if (options.json) return printJson({ incident: found.id, file: written });
    process.stdout.write(`wrote ${written}\n`);
    process.stderr.write(
      `when the review meeting has filled it in: "entitle incident update ${found.id} --status reviewed --text 'review held'"\n`,
    );
  });
}
