import { createHash } from 'node:crypto';
import { SLOS } from '../slos/index.ts';
import type { Database } from '../store/index.ts';
import { PRIORITIES, type Priority } from './model.ts';
import {
  addIncidentEntry,
  auditIncident,
  CONTROL_CHARACTERS_ALL,
  declareIncident,
  incidentFromRow,
  lockIncident,
  OPEN_SQL,
  type IncidentRow,
  type StoredIncident,
} from './repository.ts';

/** One alert in Alertmanager's webhook payload (version 4). */
export interface WebhookAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt?: string;
  readonly fingerprint?: string;
}

/** Alertmanager's webhook payload: one notification for one alert group. */
export interface AlertGroup {
  readonly status: 'firing' | 'resolved';
  readonly groupKey: string;
  readonly groupLabels?: Readonly<Record<string, string>>;
  readonly commonLabels?: Readonly<Record<string, string>>;
  readonly commonAnnotations?: Readonly<Record<string, string>>;
  readonly alerts: readonly WebhookAlert[];
}

export interface AlertGroupResult {
  /** The incident the group belongs to; undefined when a resolved group had none open. */
  readonly incident?: StoredIncident;
  readonly created: boolean;
  /** Alert entries added: zero when Alertmanager resent what was already recorded. */
  readonly added: number;
}

export const ALERTMANAGER_ACTOR = 'alertmanager';
/** The alert that says a release was rolled back: the rollback opened its incident already. */
const ROLLBACK_ALERT = 'EntitleReleaseRolledBackAutomatically';

function priorityOf(alert: WebhookAlert): Priority {
  const label = alert.labels.priority?.toUpperCase();
  // An alert without a priority is treated as degraded service until a person says otherwise.
  return (PRIORITIES as readonly string[]).includes(label ?? '') ? (label as Priority) : 'P2';
}

function highest(priorities: readonly Priority[]): Priority {
  return [...priorities].sort()[0] ?? 'P2';
}

function alertKey(alert: WebhookAlert): string {
  const identity =
    alert.fingerprint ??
    createHash('sha256')
      .update(JSON.stringify(Object.entries(alert.labels).sort()))
      .digest('hex')
      .slice(0, 16);
  return `${identity}:${alert.startsAt}:${alert.status}`;
}

function alertText(alert: WebhookAlert): string {
  const name = alert.labels.alertname ?? 'alert';
  const summary = alert.annotations.summary ? `: ${alert.annotations.summary}` : '';
  return alert.status === 'firing' ? `Alert ${name} firing${summary}` : `Alert ${name} resolved`;
}

/** Labels and annotations are written by our own rules and carry no personal data; kept as evidence. */
function alertData(alert: WebhookAlert): Record<string, unknown> {
  return {
    labels: alert.labels,
    annotations: alert.annotations,
    startsAt: alert.startsAt,
    ...(alert.endsAt ? { endsAt: alert.endsAt } : {}),
  };
}

/**
 * Opens or updates the incident for an alert group. One open incident per group (the group key
 * is the dedup key, unique among open incidents in the database); alerts resent by Alertmanager
 * add nothing; a higher priority raises the incident's; when the whole group resolves, the
 * incident moves to monitoring for a person to verify and resolve. The rollback alert joins the
 * incident the rollback itself opened.
 */
export async function receiveAlertGroup(db: Database, received: AlertGroup): Promise<AlertGroupResult> {
  const group = normalise(received);
  try {
    return await receive(db, group);
  } catch (error) {
    // A person resolved the incident between finding it and locking it: look again, once.
    if (error instanceof ResolvedMeanwhile) return receive(db, group);
    throw error;
  }
}

class ResolvedMeanwhile extends Error {}

/** Our own rules write the labels, but the payload is input: no control characters, real times. */
function normalise(group: AlertGroup): AlertGroup {
  const clean = (text: string) => text.replace(CONTROL_CHARACTERS_ALL, '');
  const record = (r: Readonly<Record<string, string>> | undefined) =>
    Object.fromEntries(Object.entries(r ?? {}).map(([k, v]) => [clean(k), clean(v)]));
  const instant = (text: string | undefined) => {
    const ms = text === undefined || text.startsWith('0001-') ? NaN : Date.parse(text);
    return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
  };
  return {
    status: group.status,
    groupKey: group.groupKey,
    groupLabels: record(group.groupLabels),
    commonLabels: record(group.commonLabels),
    commonAnnotations: record(group.commonAnnotations),
    alerts: group.alerts.map((a) => {
      const endsAt = instant(a.endsAt);
      return {
        status: a.status,
        labels: record(a.labels),
        annotations: record(a.annotations),
        startsAt: instant(a.startsAt) ?? new Date().toISOString(),
        ...(endsAt ? { endsAt } : {}),
        ...(a.fingerprint ? { fingerprint: clean(a.fingerprint) } : {}),
      };
    }),
  };
}

async function receive(db: Database, group: AlertGroup): Promise<AlertGroupResult> {
  const now = new Date().toISOString();
  const firing = group.alerts.filter((a) => a.status === 'firing');
  const alertname = group.commonLabels?.alertname ?? group.groupLabels?.alertname;
  const benefit = group.commonLabels?.benefit;
  const dedupKey = `alertmanager:${createHash('sha256').update(group.groupKey).digest('hex').slice(0, 32)}`;

  let incident: StoredIncident | undefined;
  let created = false;
  if (alertname === ROLLBACK_ALERT && benefit) {
    const { rows } = await db.query<IncidentRow>(
      `SELECT * FROM incidents WHERE source = 'release-rollback' AND benefits ? $1 AND ${OPEN_SQL} ORDER BY declared_at DESC LIMIT 1`,
      [benefit],
    );
    incident = rows[0] ? incidentFromRow(rows[0]) : undefined;
  }
  if (!incident) {
    const { rows } = await db.query<IncidentRow>(`SELECT * FROM incidents WHERE dedup_key = $1 AND ${OPEN_SQL}`, [
      dedupKey,
    ]);
    incident = rows[0] ? incidentFromRow(rows[0]) : undefined;
  }
  const foundOpen = incident !== undefined;
  if (!incident) {
    // Alerts a person's resolution did not stop (slower tiers still firing, or their resolution
    // arriving later) belong to the incident that recorded them, not to a new one.
    const { rows } = await db.query<IncidentRow>(
      'SELECT * FROM incidents WHERE dedup_key = $1 ORDER BY declared_at DESC LIMIT 1',
      [dedupKey],
    );
    const latest = rows[0] ? incidentFromRow(rows[0]) : undefined;
    if (latest) {
      const keys = firing.map(alertKey);
      const known = await db.query<{ alert_key: string }>(
        'SELECT alert_key FROM incident_entries WHERE incident_id = $1 AND alert_key = ANY($2)',
        [latest.id, keys],
      );
      if (known.rows.length === new Set(keys).size) incident = latest;
    }
  }
  if (!incident) {
    if (firing.length === 0) return { created: false, added: 0 };
    const first = firing.reduce((a, b) => (a.startsAt < b.startsAt ? a : b));
    const known = SLOS.map((s) => s.id);
    const journeys = [
      ...new Set(firing.map((a) => a.labels.slo).filter((s): s is string => s !== undefined && known.includes(s))),
    ];
    const benefits = [...new Set(firing.map((a) => a.labels.benefit).filter((b): b is string => b !== undefined))];
    const runbook = group.commonAnnotations?.runbook_url ?? first.annotations.runbook_url;
    const declared = await declareIncident(db, {
      title: group.commonAnnotations?.summary ?? first.annotations.summary ?? `Alert ${alertname ?? 'group'} firing`,
      priority: highest(firing.map(priorityOf)),
      actor: ALERTMANAGER_ACTOR,
      source: 'alertmanager',
      journeys,
      benefits,
      startedAt: Date.parse(first.startsAt) <= Date.now() ? first.startsAt : now,
      text: `Opened by Alertmanager: ${firing.map((a) => a.labels.alertname ?? 'alert').join(', ')}`,
      data: { groupLabels: group.groupLabels ?? {} },
      ...(runbook ? { runbook } : {}),
      dedupKey,
    });
    incident = declared.incident;
    created = declared.created;
  }

  const target = incident;
  return db.transaction(async (tx) => {
    let current = await lockIncident(tx, target.id);
    const open = current.status !== 'resolved' && current.status !== 'reviewed';
    if (foundOpen && !open) throw new ResolvedMeanwhile();
    // A reviewed incident is closed: its record stays as the review saw it.
    if (current.status === 'reviewed') return { incident: current, created, added: 0 };
    let added = 0;
    let refired = 0;
    for (const alert of group.alerts) {
      const entry = {
        at: alert.status === 'resolved' && alert.endsAt ? alert.endsAt : now,
        kind: alert.status === 'firing' ? 'alert-firing' : 'alert-resolved',
        actor: ALERTMANAGER_ACTOR,
        text: alertText(alert),
        data: alertData(alert),
      } as const;
      if (await addIncidentEntry(tx, current.id, entry, alertKey(alert))) {
        added += 1;
        if (alert.status === 'firing') refired += 1;
      }
    }
    const raised =
      firing.length > 0 && open ? highest([current.priority, ...firing.map(priorityOf)]) : current.priority;
    const changes: Record<string, unknown> = {};
    if (raised !== current.priority) {
      await tx.query('UPDATE incidents SET priority = $1 WHERE id = $2', [raised, current.id]);
      await addIncidentEntry(tx, current.id, {
        at: now,
        kind: 'priority',
        actor: ALERTMANAGER_ACTOR,
        text: `Priority: ${current.priority} → ${raised} (a higher-priority alert fired)`,
      });
      await tx.query('UPDATE incidents SET pending_notice = $1 WHERE id = $2', [
        `Priority raised from ${current.priority} to ${raised}: a higher-priority alert fired`,
        current.id,
      ]);
      changes.priority = { from: current.priority, to: raised };
    }
    // Firing again while being watched: the fix did not hold.
    if (refired > 0 && current.status === 'monitoring' && !created) {
      await tx.query("UPDATE incidents SET status = 'investigating', pending_notice = $1 WHERE id = $2", [
        'An alert fired again while the incident was being monitored: back to investigating',
        current.id,
      ]);
      await addIncidentEntry(tx, current.id, {
        at: now,
        kind: 'status',
        actor: ALERTMANAGER_ACTOR,
        text: 'Status: monitoring → investigating (an alert fired again)',
      });
      changes.status = { from: 'monitoring', to: 'investigating' };
    }
    if (group.status === 'resolved' && (current.status === 'investigating' || current.status === 'identified')) {
      await tx.query(
        "UPDATE incidents SET status = 'monitoring', last_update_at = $1, reminded_at = NULL WHERE id = $2",
        [now, current.id],
      );
      await addIncidentEntry(tx, current.id, {
        at: now,
        kind: 'status',
        actor: ALERTMANAGER_ACTOR,
        text: `Status: ${current.status} → monitoring (every alert of the group resolved; verify, then resolve)`,
      });
      changes.status = { from: current.status, to: 'monitoring' };
    }
    if (added > 0 || Object.keys(changes).length > 0) {
      const { rows } = await tx.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [current.id]);
      current = incidentFromRow(rows[0]!);
      await auditIncident(
        tx,
        ALERTMANAGER_ACTOR,
        'alerts',
        current,
        `${added} alert notification${added === 1 ? '' : 's'} recorded (group ${group.status})`,
        { added, ...changes },
      );
    }
    return { incident: current, created, added };
  });
}
