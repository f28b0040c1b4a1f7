import { createTransport, type NodemailerError, type SMTPSentMessageInfo, type Transporter } from 'nodemailer';
import { hideUrls, KIND_HEADLINES, NotifyError, type Notification, type Notifier } from './notifier.ts';

export interface EmailOptions {
  /** The channel's name in the policy, named in errors. */
  readonly name: string;
  /** `smtp://user:password@host:587` or `smtps://...:465`. A secret: it may hold a password. */
  readonly smtpUrl: string;
  /** The environment variable the SMTP URL came from, named in errors as the thing to check. */
  readonly setting?: string;
  readonly from: string;
  readonly to: readonly string[];
  /** How long connecting, the greeting and each later wait may take; 10 s by default. */
  readonly timeoutMs?: number;
}

/** Sends each notification as a plain-text email through an SMTP server. */
export class EmailNotifier implements Notifier {
  readonly name: string;
  readonly #setting: string;
  readonly #from: string;
  readonly #to: readonly string[];
  readonly #transport: Transporter<SMTPSentMessageInfo>;

  constructor(options: EmailOptions) {
    this.name = options.name;
    this.#setting = options.setting ?? `the SMTP URL of channel "${options.name}"`;
    if (!/^smtps?:\/\/[^/?#\s]+/.test(options.smtpUrl)) {
      throw new NotifyError('ENTITLE_NOTIFICATION_FAILED', `email channel "${this.name}" has no usable SMTP URL`, [
        {
          field: this.#setting,
          message: 'set it to smtp://user:password@host:587 (STARTTLS) or smtps://user:password@host:465 (TLS)',
        },
      ]);
    }
    this.#from = options.from;
    this.#to = options.to;
    // Nodemailer waits minutes by default; an incident cannot.
    const timeout = options.timeoutMs ?? 10_000;
    this.#transport = createTransport({
      url: options.smtpUrl,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      dnsTimeout: timeout,
    });
  }

  async send(notification: Notification): Promise<void> {
    let rejected: string[];
    try {
      const info = await this.#transport.sendMail({
        from: this.#from,
        to: [...this.#to],
        subject: emailSubject(notification),
        text: emailBody(notification, this.name),
      });
      rejected = info.rejected;
    } catch (error) {
      throw this.#failure(smtpReason(error as NodemailerError));
    }
    if (rejected.length > 0)
      throw this.#failure(`the SMTP server refused ${rejected.join(', ')} (the other recipients were sent it)`);
  }

  #failure(reason: string): NotifyError {
    return new NotifyError(
      'ENTITLE_NOTIFICATION_FAILED',
      `email channel "${this.name}" did not take the notification: ${reason}`,
      [
        {
          field: this.#setting,
          message: `check the host, port and login in ${this.#setting}, and the channel's addresses in the escalation policy`,
        },
      ],
    );
  }
}

/** Nodemailer's structured fields only; its messages can name the host, and the URL holds the password. */
function smtpReason(error: NodemailerError): string {
  const reply = error.response ? `: ${hideUrls(error.response).slice(0, 200)}` : '';
  switch (error.code) {
    case 'ECONNECTION':
    case 'ESOCKET':
    case 'EDNS':
      return `the SMTP server could not be reached (${error.originalCode ?? error.code})`;
    case 'ETIMEDOUT':
      return 'the SMTP server did not answer in time';
    case 'ETLS':
      return 'the TLS handshake with the SMTP server failed';
    case 'EAUTH':
    case 'ENOAUTH':
      return `the SMTP server refused the login${reply}`;
    case 'EENVELOPE':
      return `the SMTP server refused the sender or the recipients${reply}`;
    default:
      return `the SMTP server refused the message (${error.responseCode ?? error.code ?? error.name})${reply}`;
  }
}

/** `[P1] INC-7: title`: the same for every message of an incident, so mail clients can thread them. */
export function emailSubject(notification: Notification): string {
  return `[${notification.priority}] ${notification.incidentId}: ${notification.title}`;
}

export function emailBody(notification: Notification, channel: string): string {
  const { kind, priority, incidentId, title, text, url } = notification;
  return [
    `${KIND_HEADLINES[kind]}: ${title}`,
    '',
    `Priority: ${priority}`,
    `Incident: ${incidentId}`,
    ...(url ? [`Link: ${url}`] : []),
    '',
    text,
    '',
    '-- ',
    `Sent by Entitle to the "${channel}" channel of its escalation policy.`,
    '',
  ].join('\n');
}
