import type { ChannelResult, EscalationPolicy, Notification } from '../notify/index.ts';
import type { Database } from '../store/index.ts';
import { OPEN_STATUSES } from './model.ts';
import { addIncidentEntry, incidentFromRow, type IncidentRow, type StoredIncident } from './repository.ts';

/** What the watch needs from the notifier: the policy, and sending to named channels. */
export interface IncidentNotifier {
  readonly policy: Pick<EscalationPolicy, 'priorities'>;
  sendTo(channels: readonly string[], notification: Notification): Promise<readonly ChannelResult[]>;
}

export interface WatchLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

const ACTOR = 'entitle';
const OPEN = OPEN_STATUSES.map((s) => `'${s}'`).join(', ');

/** One message to send: which column marks it taken, and the value that column had. */
interface Due {
  readonly incident: StoredIncident;
  readonly kind: Notification['kind'];
  readonly column: 'notified_at' | 'resolution_notified_at' | 'reminded_at' | 'escalated_at' | 'pending_notice';
  /** The column's value when the message fell due: the claim succeeds only if it is unchanged. */
  readonly was: string | null;
  /** What the column becomes when the message is claimed. */
  readonly becomes: string | null;
  readonly channels: readonly string[];
  readonly text: string;
  /** Identifies this message among the incident's entries, so a retry skips channels that have it. */
  readonly key: string;
}

/**
 * Tells people what they need to know about incidents, whichever way they were declared (the
 * command line, the API, Alertmanager, a rollback): the declaration, a higher priority or an
 * alert firing again, a reminder each time an update is overdue for the priority, an escalation
 * when nobody acknowledged in time, and the resolution. Runs in every instance: a message is
 * claimed with a conditional update before it is sent, so one instance sends it; a channel that
 * did not take it is tried again on the next pass, and channels that did are not sent it twice.
 * An instance that dies between claiming and sending loses that message (the entries show it was
 * never sent).
 */
export class IncidentWatch {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly notifier: IncidentNotifier,
    private readonly log: WatchLog,
    /** Where the console shows an incident, for links in messages. */
    private readonly consoleUrl?: string,
  ) {}

  start(everyMs = 15_000): void {
    this.timer ??= setInterval(() => void this.tick(), everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass; resolves when done. Failures are logged and retried on the next pass. */
  tick(now: Date = new Date()): Promise<void> {
    this.running ??= this.pass(now)
      .catch((error: unknown) =>
        this.log.warn(
          { event: 'incident_watch_failed', cause: (error as Error).name },
          'could not check incidents for notifications this time; retrying',
        ),
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(now: Date): Promise<void> {
    const at = now.toISOString();
    const { rows } = await this.db.query<IncidentRow>(
      `SELECT * FROM incidents WHERE status IN (${OPEN}) OR notified_at IS NULL OR (resolved_at IS NOT NULL AND resolution_notified_at IS NULL)`,
    );
    for (const row of rows) {
      const incident = incidentFromRow(row);
      for (const due of this.dueFor(incident, row, now, at)) await this.deliver(due);
    }
  }

  private dueFor(incident: StoredIncident, row: IncidentRow, now: Date, at: string): Due[] {
    const policy = this.notifier.policy.priorities[incident.priority];
    const notify = policy?.notify ?? [];
    const escalateTo = policy?.escalateTo ?? [];
    const due: Due[] = [];
    if (!row.notified_at) {
      due.push({
        incident,
        kind: 'declared',
        column: 'notified_at',
        was: null,
        becomes: at,
        channels: notify,
        text: `${incident.priority} declared: ${incident.title}`,
        key: 'declared',
      });
    }
    if (row.resolved_at && !row.resolution_notified_at) {
      // Whoever heard of an escalation hears of the resolution too.
      const channels = [...new Set([...notify, ...(row.escalated_at ? escalateTo : [])])];
      due.push({
        incident,
        kind: 'resolved',
        column: 'resolution_notified_at',
        was: null,
        becomes: at,
        channels,
        text: `Resolved: ${incident.title}`,
        key: 'resolved',
      });
    }
    if (!OPEN_STATUSES.includes(incident.status)) return due;
    if (row.notified_at && row.pending_notice) {
      due.push({
        incident,
        kind: 'updated',
        column: 'pending_notice',
        was: row.pending_notice,
        becomes: null,
        channels: notify,
        text: row.pending_notice,
        key: `notice:${row.pending_notice}`,
      });
    }
    if (policy?.updateEveryMinutes) {
      // Due an interval after the last update, and again an interval after each reminder.
      const since =
        row.reminded_at && row.reminded_at > incident.lastUpdateAt ? row.reminded_at : incident.lastUpdateAt;
      const dueAt = Date.parse(since) + policy.updateEveryMinutes * 60_000;
      if (now.getTime() >= dueAt) {
        const text = `An update on ${incident.id} is overdue: ${incident.priority} incidents are updated every ${policy.updateEveryMinutes} minutes. Post one with "entitle incident update ${incident.id} --text ..."`;
        due.push({
          incident,
          kind: 'reminder',
          column: 'reminded_at',
          was: row.reminded_at,
          becomes: at,
          channels: notify,
          text,
          key: `reminder:${new Date(dueAt).toISOString()}`,
        });
      }
    }
    if (
      policy?.escalateAfterMinutes &&
      !incident.acknowledgedAt &&
      !row.escalated_at &&
      now.getTime() >= Date.parse(incident.declaredAt) + policy.escalateAfterMinutes * 60_000
    ) {
      const text = `${incident.id} (${incident.priority}) has not been acknowledged within ${policy.escalateAfterMinutes} minutes: ${incident.title}. Acknowledge with "entitle incident ack ${incident.id}"`;
      due.push({
        incident,
        kind: 'escalation',
        column: 'escalated_at',
        was: null,
        becomes: at,
        channels: escalateTo,
        text,
        key: 'escalation',
      });
    }
    return due;
  }

  /**
   * Claims the message (the column still holds what it held when the message fell due), sends it
   * to the channels that do not have it yet, and records what happened. If a channel failed, the
   * column is put back so the next pass tries again.
   */
  private async deliver(due: Due): Promise<void> {
    const { incident } = due;
    const claim = await this.db.query<{ id: string }>(
      `UPDATE incidents SET ${due.column} = $1 WHERE id = $2 AND ${due.was === null ? `${due.column} IS NULL` : `${due.column} = $3`} RETURNING id`,
      due.was === null ? [due.becomes, incident.id] : [due.becomes, incident.id, due.was],
    );
    if (claim.rows.length === 0) return;
    const delivered = await this.deliveredChannels(incident.id, due.key);
    const channels = due.channels.filter((c) => !delivered.has(c));
    const notification: Notification = {
      kind: due.kind,
      incidentId: incident.id,
      priority: incident.priority,
      title: incident.title,
      text: due.text,
      ...(this.consoleUrl ? { url: `${this.consoleUrl.replace(/\/$/, '')}/ops/incidents/${incident.id}` } : {}),
    };
    const results = channels.length > 0 ? await this.notifier.sendTo(channels, notification) : [];
    const sent = results.filter((r) => r.ok).map((r) => r.channel);
    // A channel not configured here (a laptop) is expected, not a failure.
    const failed = results.filter((r) => !r.ok && !r.warning).map((r) => r.channel);
    const entryKind = due.kind === 'reminder' ? 'reminder' : due.kind === 'escalation' ? 'escalation' : 'notification';
    await addIncidentEntry(this.db, incident.id, {
      at: new Date().toISOString(),
      kind: entryKind,
      actor: ACTOR,
      text: `${due.kind} ${sent.length > 0 ? `sent to ${sent.join(', ')}` : 'sent to no channel'}${failed.length > 0 ? `; failed: ${failed.join(', ')} (will retry)` : ''}`,
      data: { key: due.key, sent, failed, results },
    });
    if (failed.length > 0) {
      await this.db.query(`UPDATE incidents SET ${due.column} = $1 WHERE id = $2`, [due.was, incident.id]);
      this.log.warn(
        { event: 'incident_notification_failed', incident: incident.id, kind: due.kind, channels: failed },
        'an incident notification could not be delivered to every channel; it will be tried again',
      );
    } else {
      this.log.info(
        { event: 'incident_notification_sent', incident: incident.id, kind: due.kind, channels: sent },
        'incident notification sent',
      );
    }
  }

  private async deliveredChannels(incidentId: string, key: string): Promise<Set<string>> {
    const { rows } = await this.db.query<{ data: { key?: string; sent?: string[] } }>(
      "SELECT data FROM incident_entries WHERE incident_id = $1 AND kind IN ('notification', 'reminder', 'escalation') AND data->>'key' = $2",
      [incidentId, key],
    );
    return new Set(rows.flatMap((r) => r.data.sent ?? []));
  }
}
