import { setTimeout as delay } from 'node:timers/promises';
import { KIND_HEADLINES, NotifyError, type Notification, type Notifier } from './notifier.ts';

export interface WebhookOptions {
  /** The channel's name in the policy, named in errors. */
  readonly name: string;
  /** The incoming-webhook URL. A secret: whoever has it can post to the channel. */
  readonly url: string;
  /** The environment variable the URL came from, named in errors as the thing to check. */
  readonly setting?: string;
  /** How long one attempt may take; 5 s by default. */
  readonly timeoutMs?: number;
  /** The pause before the one retry; 500 ms by default. */
  readonly retryDelayMs?: number;
}

type Attempt = { readonly ok: true } | { readonly ok: false; readonly retry: boolean; readonly reason: string };

/** Posts to a Slack-compatible incoming webhook, retrying once on a 5xx answer or no answer. */
export class WebhookNotifier implements Notifier {
  readonly name: string;
  // A private field, so the URL shows in neither console.log nor JSON.stringify of the notifier.
  readonly #url: URL;
  readonly #setting: string;
  readonly #timeoutMs: number;
  readonly #retryDelayMs: number;

  constructor(options: WebhookOptions) {
    this.name = options.name;
    this.#setting = options.setting ?? `the URL of channel "${options.name}"`;
    const url = URL.canParse(options.url) ? new URL(options.url) : undefined;
    if (url?.protocol !== 'https:' && url?.protocol !== 'http:') {
      throw new NotifyError('ENTITLE_NOTIFICATION_FAILED', `webhook channel "${this.name}" has no usable URL`, [
        { field: this.#setting, message: 'set it to the https:// address of an incoming webhook' },
      ]);
    }
    this.#url = url;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#retryDelayMs = options.retryDelayMs ?? 500;
  }

  async send(notification: Notification): Promise<void> {
    const body = JSON.stringify(slackMessage(notification));
    let attempt = await this.#post(body);
    let tries = '';
    if (!attempt.ok && attempt.retry) {
      await delay(this.#retryDelayMs);
      attempt = await this.#post(body);
      tries = ' (tried twice)';
    }
    if (attempt.ok) return;
    throw new NotifyError(
      'ENTITLE_NOTIFICATION_FAILED',
      `webhook channel "${this.name}" did not take the notification: ${attempt.reason}${tries}`,
      [
        {
          field: this.#setting,
          message: `check ${this.#setting} holds the channel's current webhook URL and that the chat service is up`,
        },
      ],
    );
  }

  async #post(body: string): Promise<Attempt> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    try {
      const response = await fetch(this.#url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal,
      });
      const answer = await response.text();
      if (response.ok) return { ok: true };
      // Slack explains a refusal in one short code (invalid_payload, channel_is_archived); any
      // other body is left out, as it could repeat the address.
      const code = /^[a-z_]{1,40}$/.test(answer.trim()) ? ` (${answer.trim()})` : '';
      return { ok: false, retry: response.status >= 500, reason: `answered ${response.status}${code}` };
    } catch (error) {
      // Only the error's name and code: fetch's messages can hold the URL.
      const { name, cause } = error as Error & { cause?: { code?: string } };
      if (name === 'TimeoutError' || name === 'AbortError')
        return { ok: false, retry: true, reason: `no answer within ${this.#timeoutMs / 1000} s` };
      return { ok: false, retry: true, reason: `could not be reached (${cause?.code ?? name})` };
    }
  }
}

/** Slack's mrkdwn gives &, < and > meaning; escaping them also stops text from pinging @channel. */
const escapeMrkdwn = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** Cuts to Slack's length limit without leaving half an escape behind. */
function clip(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1).replace(/&[a-z]*$/, '')}…`;
}

/** The JSON an incoming webhook takes: `text` for phone notifications, `blocks` for the message itself. */
export function slackMessage(notification: Notification): { text: string; blocks: object[] } {
  const { kind, priority, incidentId, title, text, url } = notification;
  const headline = `${KIND_HEADLINES[kind]}: ${title}`;
  const blocks: object[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(headline, 150) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Priority*\n${escapeMrkdwn(priority)}` },
        { type: 'mrkdwn', text: `*Incident*\n${clip(escapeMrkdwn(incidentId), 1900)}` },
      ],
      // Slack refuses an empty text object, so none is sent for an empty text.
      ...(text.trim() === '' ? {} : { text: { type: 'mrkdwn', text: clip(escapeMrkdwn(text), 3000) } }),
    },
  ];
  if (url) {
    const link = /^https?:\/\/[^\s<>|]+$/.test(url) ? `<${url}>` : escapeMrkdwn(url);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Link*\n${link}`, 3000) } });
  }
  return { text: clip(escapeMrkdwn(`[${priority}] ${incidentId}: ${headline}`), 3000), blocks };
}
