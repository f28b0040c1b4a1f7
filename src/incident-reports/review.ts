import { overdue, PRIORITY_DEFINITIONS, type Incident, type IncidentEntry } from '../incidents/index.ts';
import { poundsText } from '../rules/index.ts';
import { ukTimeText } from '../uk-time/index.ts';
import type { Impact } from './impact.ts';
import { timelineMarkdown, type Timeline } from './timeline.ts';

function duration(fromIso: string, toIso: string): string {
  const minutes = Math.max(0, Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 60_000));
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
}

function person(incident: Incident, role: string): string {
  return incident.roles.find((r) => r.role === role)?.person ?? 'not assigned';
}

/** The impact figures as a Markdown list: shared by the review and `entitle incident impact`. */
export function impactMarkdown(impact: Impact): string {
  const a = impact.assessments;
  const lines = [
    `Window: ${ukTimeText(impact.window.from)} to ${ukTimeText(impact.window.to)} (UK time)${impact.window.open ? ', still open' : ''}; benefits: ${impact.benefits.length > 0 ? impact.benefits.join(', ') : 'all'}.`,
    '',
    `| Figure | Count |`,
    `|---|---:|`,
    `| Decisions recorded | ${a.decided} |`,
    `| Assessments that failed (the service's fault) | ${a.failed} |`,
    `| Applications with a failed assessment | ${a.failedApplications} |`,
    `| ... of which decided later | ${a.laterDecided} |`,
    `| ... still without a decision: to recontact | ${a.stillWithoutDecision} |`,
  ];
  for (const release of impact.releases) {
    lines.push(`| Decisions made by release ${release.releaseId} (${release.state}) | ${release.decisions} |`);
    if (release.worklist) {
      const w = release.worklist;
      lines.push(
        `| ... to correct: underpaid (arrears ${poundsText(w.totalUnderpaidPence)}) | ${w.underpaid} |`,
        `| ... to correct: overpaid (${poundsText(w.totalOverpaidPence)}) | ${w.overpaid} |`,
        `| ... entitlement changed | ${w.entitlementChanged} |`,
        `| ... to reassess by hand (inputs purged) | ${w.byHand} |`,
        `| ... unchanged | ${w.unchanged} |`,
      );
    }
  }
  lines.push('');
  if (impact.failedJustBefore > 0) {
    lines.push(
      `${impact.failedJustBefore} more assessments failed in the 30 minutes before the window opened. If they belong to this incident, move its start: \`entitle incident update ${impact.incident} --started TIME\` (the timeline shows when failures began).`,
      '',
    );
  }
  if (a.stillWithoutDecision > 0)
    lines.push(`Applications to recontact: \`entitle incident impact ${impact.incident} --recontact\`.`);
  for (const release of impact.releases.filter((r) => r.worklist))
    lines.push(`Decisions to correct: \`${release.command}\` (the remediation worklist).`);
  return `${lines.join('\n')}\n`;
}

/**
 * The post-incident review, prefilled from the record: summary, impact figures, timeline and
 * runbook; the sections only people can write are left for them. Blameless by construction:
 * it names roles and systems, and asks what let the failure happen.
 */
export function reviewMarkdown(
  incident: Incident,
  entries: readonly IncidentEntry[],
  impact: Impact,
  timeline: Timeline,
  now: Date = new Date(),
): string {
  const declared = entries.find((e) => e.kind === 'declared');
  const resolution = [...entries]
    .reverse()
    .find((e) => e.kind === 'update' && incident.resolvedAt !== null && e.at <= incident.resolvedAt);
  const end = incident.resolvedAt ?? now.toISOString();
  const late = overdue(incident, now).review;
  const a = impact.assessments;
  const summary = [
    `${incident.title}. Citizens were affected from ${ukTimeText(incident.startedAt)} to ${incident.resolvedAt ? ukTimeText(incident.resolvedAt) : 'now (still open)'} (UK time), ${duration(incident.startedAt, end)}.`,
    `In that time ${a.decided} decisions were recorded and ${a.failed} assessments failed, for ${a.failedApplications} applications; ${a.laterDecided} of them were decided later and ${a.stillWithoutDecision} still have no decision.`,
    ...impact.releases.map(
      (r) =>
        `Rule release ${r.releaseId} (${r.state}) made ${r.decisions} decisions${r.worklist ? `, of which ${r.worklist.underpaid + r.worklist.overpaid + r.worklist.entitlementChanged + r.worklist.byHand} need correcting` : ''}.`,
    ),
    declared ? `Declared: ${declared.text}` : '',
    resolution ? `Resolved: ${resolution.text}` : '',
  ].filter(Boolean);
  return `# Post-incident review: ${incident.id}, ${incident.title}

This review is blameless: it asks how our systems and ways of working allowed this to happen, not who
was at fault. Write it within 5 working days of resolution.

| | |
|---|---|
| Priority | ${incident.priority}: ${PRIORITY_DEFINITIONS[incident.priority].meaning} |
| Status | ${incident.status} |
| Citizens affected from | ${ukTimeText(incident.startedAt)} |
| Declared | ${ukTimeText(incident.declaredAt)}, by ${incident.declaredBy} (${incident.source}) |
| Acknowledged | ${incident.acknowledgedAt ? `${ukTimeText(incident.acknowledgedAt)}, by ${incident.acknowledgedBy}` : 'never'} |
| Resolved | ${incident.resolvedAt ? ukTimeText(incident.resolvedAt) : 'not yet'} |
| Duration | ${duration(incident.startedAt, end)} |
| Incident lead | ${person(incident, 'incident-lead')} |
| Communications lead | ${person(incident, 'communications-lead')} |
| Runbook used | ${incident.runbook ?? 'none recorded'} |
| Review due | ${incident.reviewDueAt ? `${ukTimeText(incident.reviewDueAt)}${late ? ' (OVERDUE)' : ''}` : 'when resolved'} |

## Summary

${summary.join('\n\n')}

## Citizen impact

${impactMarkdown(impact)}
## Timeline

All times UK. Rebuilt from the incident's entries, alerts, release and deploy records, and the
per-minute counts of decisions and failed assessments (${ukTimeText(timeline.from)} to ${ukTimeText(timeline.to)}).

${timelineMarkdown(timeline)}
## Root cause

_What, in the system, made this happen? Ask "why" until the answer is something we can change._

## Contributing factors

_What made it more likely, larger, longer or harder to see?_

## What went well

-

## What to improve

-

## Actions

| Action | Owner | Due | Ticket |
|---|---|---|---|
| | | | |
`;
}
