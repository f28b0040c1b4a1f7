import { EntitleError, type Problem } from '../errors/index.ts';

export type NotificationKind = 'declared' | 'updated' | 'reminder' | 'escalation' | 'resolved' | 'rollback';
export type NotificationPriority = 'P1' | 'P2' | 'P3' | 'P4';

/** One message about an incident, the same whichever channel carries it. */
export interface Notification {
  readonly kind: NotificationKind;
  readonly incidentId: string;
  readonly priority: NotificationPriority;
  readonly title: string;
  readonly text: string;
  /** link to the incident in the console or a runbook */
  readonly url?: string;
}

/** A way of telling people: a chat webhook, an email list. `send` throws a NotifyError when the message was not taken. */
export interface Notifier {
  /** The channel's name in the escalation policy. */
  readonly name: string;
  send(notification: Notification): Promise<void>;
}

/** What each kind of notification says first, in chat headers and email bodies. */
export const KIND_HEADLINES: Readonly<Record<NotificationKind, string>> = {
  declared: 'Incident declared',
  updated: 'Incident update',
  reminder: 'Update due',
  escalation: 'Not acknowledged: escalated',
  resolved: 'Incident resolved',
  rollback: 'Release rolled back',
};

export type NotifyErrorCode = 'ENTITLE_NOTIFICATION_FAILED' | 'ENTITLE_ESCALATION_POLICY_INVALID';

/** A notification not taken, or a policy that cannot be used. Never carries a webhook or SMTP URL. */
export class NotifyError extends EntitleError {
  declare readonly code: NotifyErrorCode;

  constructor(code: NotifyErrorCode, detail: string, problems: readonly Problem[] = []) {
    super(code, detail, problems);
    this.name = 'NotifyError';
  }
}

/** Hides anything shaped like a URL (`scheme://...`): webhook and SMTP URLs are secrets. */
export function hideUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[address hidden]');
}
