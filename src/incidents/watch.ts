import type { ChannelResult, Notification } from '../notify/index.ts';
import type { Database } from '../store/index.ts';
import { OPEN_STATUSES, type Incident } from './model.ts';
import { addIncidentEntry, incidentFromRow, type IncidentRow, type StoredIncident } from './repository.ts';

/** What the watch needs from the notifier: tell a priority's people now, or escalate. */
export interface IncidentNotifier {
  notifyNow(notification: Notification): Promise<readonly ChannelResult[]>;
  escalate(notification: Notification): Promise<readonly ChannelResult[]>;
  /** Minutes, by priority, as the escalation policy says. */
  timing(priority: Incident['priority']): { readonly updateEveryMinutes: number | null; readonly escalateAfterMinutes: number | null };
}

export interface WatchLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

const ACTOR = 'entitle';

/**
 * Tells people what they need to know about incidents, whichever way they were declared (the
 * command line, the API, Alertmanager, a rollback): the declaration and the resolution, a
 * reminder when an update is overdue for the priority, and an escalation when nobody has
 * acknowledged in time. Runs in every instance; each message is claimed with a conditional
 * update first, so only one instance sends it.
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
      .catch((error: unknown) => this.log.warn({ event: 'incident_watch_failed', cause: (error as Error).name }, 'could not check incidents for notifications this time; retrying'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(now: Date): Promise<void> {
    const at = now.toISOString();
    // Declared, not yet announced.
    for (const incident of await this.claim('notified_at IS NULL', 'notified_at', at)) {
      await this.send('declared', incident, `${incident.priority} declared: ${incident.title}`, 'notifyNow');
    }
    for (const incident of await this.claim(`resolved_at IS NOT NULL AND resolution_notified_at IS NULL`, 'resolution_notified_at', at)) {
      // Whoever was told of an escalation hears of the resolution too.
      await this.send('resolved', incident, `Resolved: ${incident.title}`, incident.escalatedAt ? 'both' : 'notifyNow');
    }
    const { rows } = await this.db.query<IncidentRow>(`SELECT * FROM incidents WHERE status IN (${OPEN_STATUSES.map((s) => `'${s}'`).join(', ')})`);
    for (const incident of rows.map(incidentFromRow)) {
      const { updateEveryMinutes, escalateAfterMinutes } = this.notifier.timing(incident.priority);
      if (updateEveryMinutes !== null) {
        const due = new Date(Date.parse(incident.lastUpdateAt) + updateEveryMinutes * 60_000);
        // One reminder per missed update: reminded_at is cleared by the next update.
        if (now >= due) {
          for (const claimed of await this.claim('id = $2 AND reminded_at IS NULL AND last_update_at = $3', 'reminded_at', at, [incident.id, incident.lastUpdateAt])) {
            await this.send('reminder', claimed, `An update on ${claimed.id} is overdue: ${claimed.priority} incidents are updated every ${updateEveryMinutes} minutes. Post one with "entitle incident update ${claimed.id} --text ..."`, 'notifyNow');
          }
        }
      }
      if (escalateAfterMinutes !== null && !incident.acknowledgedAt && now.getTime() >= Date.parse(incident.declaredAt) + escalateAfterMinutes * 60_000) {
        for (const claimed of await this.claim('id = $2 AND acknowledged_at IS NULL AND escalated_at IS NULL', 'escalated_at', at, [incident.id])) {
          await this.send('escalation', claimed, `${claimed.id} (${claimed.priority}) has not been acknowledged within ${escalateAfterMinutes} minutes: ${claimed.title}. Acknowledge with "entitle incident ack ${claimed.id}"`, 'escalate');
        }
      }
    }
  }

  /** Marks the rows matching `where` ($1 is the time, then `params`) and returns those this instance marked. */
  private async claim(where: string, column: string, at: string, params: readonly unknown[] = []): Promise<StoredIncident[]> {
    const { rows } = await this.db.query<IncidentRow>(`UPDATE incidents SET ${column} = $1 WHERE ${where} RETURNING *`, [at, ...params]);
    return rows.map(incidentFromRow);
  }

  private async send(kind: Notification['kind'], incident: StoredIncident, text: string, how: 'notifyNow' | 'escalate' | 'both'): Promise<void> {
    const notification: Notification = {
      kind,
      incidentId: incident.id,
      priority: incident.priority,
      title: incident.title,
      text,
      ...(this.consoleUrl ? { url: `${this.consoleUrl.replace(/\/$/, '')}/ops/incidents/${incident.id}` } : {}),
    };
    const results = how === 'both' ? [...(await this.notifier.notifyNow(notification)), ...(await this.notifier.escalate(notification))] : await this.notifier[how](notification);
    const sent = results.filter((r) => r.ok).map((r) => r.channel);
    // A channel not configured here (a laptop) is expected, not a failure.
    const failed = results.filter((r) => !r.ok && !r.warning).map((r) => r.channel);
    const entryKind = kind === 'reminder' ? 'reminder' : kind === 'escalation' ? 'escalation' : 'notification';
    await addIncidentEntry(this.db, incident.id, {
      at: new Date().toISOString(),
      kind: entryKind,
      actor: ACTOR,
      text: `${kind} ${sent.length > 0 ? `sent to ${sent.join(', ')}` : 'sent to no channel'}${failed.length > 0 ? `; failed: ${failed.join(', ')}` : ''}`,
      data: { results },
    });
    if (failed.length > 0) this.log.warn({ event: 'incident_notification_failed', incident: incident.id, kind, channels: failed }, 'an incident notification could not be delivered to every channel');
    else this.log.info({ event: 'incident_notification_sent', incident: incident.id, kind, channels: sent }, 'incident notification sent');
  }
}
