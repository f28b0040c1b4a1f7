import { incidentEntries, type Incident } from '../incidents/index.ts';
import type { Queryable } from '../store/index.ts';
import { ukTimeText } from '../uk-time/index.ts';
import { assessmentsByMinute, impactWindow } from './impact.ts';

export type TimelineSource = 'incident' | 'alert' | 'release' | 'deploy' | 'assessments';

export interface TimelineItem {
  readonly at: string;
  readonly source: TimelineSource;
  readonly kind: string;
  readonly actor: string;
  readonly text: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface Timeline {
  readonly incident: Pick<Incident, 'id' | 'title' | 'priority' | 'status'>;
  /** What the service's own records were read for: the impact window, with 15 minutes either side. */
  readonly from: string;
  readonly to: string;
  readonly items: readonly TimelineItem[];
}

const MARGIN_MS = 15 * 60_000;
const SOURCE_ORDER: Record<TimelineSource, number> = { assessments: 0, deploy: 1, release: 2, alert: 3, incident: 4 };

/**
 * The incident's timeline, rebuilt from what the service already records: the incident's own
 * entries and alerts, release transitions and rollbacks and deploy records from the audit chain,
 * and per-minute counts of decisions and failed assessments. Sorted by time.
 */
export async function buildTimeline(db: Queryable, incident: Incident, now: Date = new Date()): Promise<Timeline> {
  const window = impactWindow(incident, now);
  const from = new Date(Math.min(Date.parse(window.from), Date.parse(incident.declaredAt)) - MARGIN_MS).toISOString();
  const to = new Date(Math.min(Date.parse(window.to) + MARGIN_MS, now.getTime())).toISOString();
  const items: TimelineItem[] = [];
  for (const entry of await incidentEntries(db, incident.id)) {
    items.push({
      at: entry.at,
      source: entry.kind.startsWith('alert-') ? 'alert' : 'incident',
      kind: entry.kind,
      actor: entry.actor,
      text: entry.text,
    });
  }
  const { rows } = await db.query<{
    at: string;
    actor: string;
    action: string;
    subject: string;
    reason: string;
    evidence: Record<string, unknown>;
  }>(
    "SELECT at, actor, action, subject, reason, evidence FROM audit_events WHERE at >= $1 AND at <= $2 AND (action LIKE 'release.%' OR action LIKE 'deploy.%') ORDER BY seq",
    [from, to],
  );
  for (const event of rows) {
    const source: TimelineSource = event.action.startsWith('deploy.') ? 'deploy' : 'release';
    items.push({
      at: event.at,
      source,
      kind: event.action,
      actor: event.actor,
      text: `${event.action} ${event.subject}: ${event.reason}`,
    });
  }
  for (const minute of await assessmentsByMinute(db, from, to, incident.benefits)) {
    items.push({
      at: minute.minute,
      source: 'assessments',
      kind: 'per-minute',
      actor: 'entitle',
      text: `${minute.decided} decided, ${minute.failed} failed`,
      data: { decided: minute.decided, failed: minute.failed },
    });
  }
  items.sort((a, b) => a.at.localeCompare(b.at) || SOURCE_ORDER[a.source] - SOURCE_ORDER[b.source]);
  return {
    incident: { id: incident.id, title: incident.title, priority: incident.priority, status: incident.status },
    from,
    to,
    items,
  };
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The timeline as a Markdown table, times in UK time. */
export function timelineMarkdown(timeline: Timeline): string {
  const lines = [
    `| Time (UK) | Source | What | Who |`,
    `|---|---|---|---|`,
    ...timeline.items.map(
      (item) => `| ${cell(ukTimeText(item.at))} | ${item.source} | ${cell(item.text)} | ${cell(item.actor)} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
