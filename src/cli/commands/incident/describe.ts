/** Incidents as people read them at a terminal: plain lines, times in UK time. */
import {
  INCIDENT_ROLES,
  overdue,
  PRIORITY_DEFINITIONS,
  roleName,
  type Incident,
  type IncidentEntry,
  type PriorityTiming,
} from '../../../incidents/index.ts';
import { ukTimeText } from '../../../uk-time/index.ts';

/** What is late, in words, or nothing. */
export function overdueText(incident: Incident, now = new Date(), timing?: PriorityTiming): string {
  const late = overdue(incident, now, timing);
  return [
    late.acknowledgement ? 'NOT ACKNOWLEDGED' : '',
    late.update ? 'UPDATE OVERDUE' : '',
    late.review ? 'REVIEW OVERDUE' : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** An incident and its entries, as `entitle incident show` prints them. */
export function describe(incident: Incident, entries: readonly IncidentEntry[], timing: PriorityTiming): string {
  const definition = PRIORITY_DEFINITIONS[incident.priority];
  const late = overdueText(incident, new Date(), timing);
  const lines = [
    `${incident.id}  ${incident.priority}  ${incident.status}${late ? `  ${late}` : ''}`,
    `  title                ${incident.title}`,
    `  priority             ${incident.priority}: ${definition.meaning}; respond within ${timing.respondWithinMinutes} min${timing.updateEveryMinutes ? `, update every ${timing.updateEveryMinutes} min` : ''}`,
    `  started              ${ukTimeText(incident.startedAt)} (UK time)`,
    `  declared             ${ukTimeText(incident.declaredAt)} by ${incident.declaredBy} (${incident.source})`,
    `  acknowledged         ${incident.acknowledgedAt ? `${ukTimeText(incident.acknowledgedAt)} by ${incident.acknowledgedBy}` : 'no'}`,
    `  last update          ${ukTimeText(incident.lastUpdateAt)}`,
  ];
  if (incident.resolvedAt) lines.push(`  resolved             ${ukTimeText(incident.resolvedAt)}`);
  if (incident.reviewDueAt)
    lines.push(
      `  review due           ${ukTimeText(incident.reviewDueAt)}${incident.reviewedAt ? ` (reviewed ${ukTimeText(incident.reviewedAt)})` : ''}`,
    );
  for (const role of INCIDENT_ROLES) {
    for (const r of incident.roles.filter((x) => x.role === role))
      lines.push(`  ${roleName(role).padEnd(21)}${r.person}`);
  }
  if (incident.benefits.length > 0) lines.push(`  benefits             ${incident.benefits.join(', ')}`);
  if (incident.journeys.length > 0) lines.push(`  journeys             ${incident.journeys.join(', ')}`);
  if (incident.releaseIds.length > 0) lines.push(`  releases             ${incident.releaseIds.join(', ')}`);
  if (incident.runbook) lines.push(`  runbook              ${incident.runbook}`);
  lines.push(
    `  status page          ${incident.citizenMessage?.replace(/\n+/g, ' ') ?? '(no citizen message: set one with --citizen-message or "entitle incident comms ID --audience citizens --publish")'}`,
  );
  if (entries.length > 0) {
    lines.push('  entries');
    for (const e of entries)
      lines.push(`    ${ukTimeText(e.at)}  ${e.kind.padEnd(15)} ${e.text.replace(/\n+/g, ' ')}  (${e.actor})`);
  }
  return `${lines.join('\n')}\n`;
}
