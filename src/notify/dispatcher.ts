import { Counter, type Registry } from 'prom-client';
import { EmailNotifier } from './email.ts';
import { hideUrls, NotifyError, type Notification, type Notifier } from './notifier.ts';
import type { Channel, Env, EscalationPolicy } from './policy.ts';
import { WebhookNotifier } from './webhook.ts';

/** What became of a notification on one channel. */
export interface ChannelResult {
  readonly channel: string;
  /** True when the channel took the notification. */
  readonly ok: boolean;
  /** Why the channel did not take it. Never holds a webhook or SMTP URL. */
  readonly error?: string;
  /** Why it was not sent at all: the channel is not configured here. Expected on a laptop. */
  readonly warning?: string;
}

export interface DispatcherOptions {
  /** Channels of the policy that have no notifier, each with what to set to configure it. */
  readonly notConfigured?: Readonly<Record<string, string>>;
  /** Where `entitle_notifications_total` is registered; without one, nothing is counted. */
  readonly registry?: Registry;
}

export interface EnvironmentOptions {
  readonly registry?: Registry;
  readonly webhookTimeoutMs?: number;
  readonly emailTimeoutMs?: number;
}

/**
 * Sends a notification to the channels the escalation policy names for its priority, all at
 * once. It never throws: each channel's outcome comes back as a result, so one broken channel
 * cannot stop an incident from being declared or the other channels from being told.
 */
export class Dispatcher {
  readonly policy: EscalationPolicy;
  /** One line for each channel that cannot be used here, to log at start-up. */
  readonly warnings: readonly string[];
  readonly #notifiers: ReadonlyMap<string, Notifier>;
  readonly #notConfigured: Readonly<Record<string, string>>;
  readonly #sent: Counter<'channel' | 'kind' | 'result'> | undefined;

  /** With explicit notifiers, by channel name (tests, or channels built elsewhere). */
  constructor(
    policy: EscalationPolicy,
    notifiers: Readonly<Record<string, Notifier>>,
    options: DispatcherOptions = {},
  ) {
    this.policy = policy;
    this.#notifiers = new Map(Object.entries(notifiers));
    this.#notConfigured = options.notConfigured ?? {};
    this.warnings = Object.keys(policy.channels)
      .filter((name) => !this.#notifiers.has(name))
      .map(
        (name) => `channel "${name}" is not configured: ${this.#notConfigured[name] ?? 'no notifier was given for it'}`,
      );
    this.#sent = options.registry
      ? new Counter({
          name: 'entitle_notifications_total',
          help: 'Incident notifications by channel, kind and result (sent, failed, not_configured).',
          labelNames: ['channel', 'kind', 'result'] as const,
          registers: [options.registry],
        })
      : undefined;
  }

  /**
   * The usual way: each channel's webhook or SMTP URL read from the environment variable the
   * policy names. A channel whose variable is unset, or not a usable URL, is not configured.
   */
  static fromEnvironment(policy: EscalationPolicy, env: Env, options: EnvironmentOptions = {}): Dispatcher {
    const notifiers: Record<string, Notifier> = {};
    const notConfigured: Record<string, string> = {};
    for (const [name, channel] of Object.entries(policy.channels)) {
      const setting = channel.type === 'webhook' ? channel.urlFrom : channel.smtpUrlFrom;
      const url = env[setting];
      if (!url) {
        notConfigured[name] = `set ${setting} to turn it on`;
        continue;
      }
      try {
        notifiers[name] = notifierFor(name, channel, url, setting, options);
      } catch (error) {
        notConfigured[name] =
          error instanceof NotifyError
            ? `${setting} is set but is not usable: ${error.problems[0]?.message ?? error.message}`
            : `${setting} is set but is not usable`;
      }
    }
    return new Dispatcher(policy, notifiers, { notConfigured, registry: options.registry });
  }

  /** Tells the channels the priority names in `notify`. */
  notifyNow(notification: Notification): Promise<ChannelResult[]> {
    return this.sendTo(this.policy.priorities[notification.priority]?.notify ?? [], notification);
  }

  /** Tells the channels the priority names in `escalateTo`; none for a priority that does not escalate. */
  escalate(notification: Notification): Promise<ChannelResult[]> {
    return this.sendTo(this.policy.priorities[notification.priority]?.escalateTo ?? [], notification);
  }

  /** Tells the named channels, each once, concurrently. */
  sendTo(channels: readonly string[], notification: Notification): Promise<ChannelResult[]> {
    return Promise.all([...new Set(channels)].map((channel) => this.#sendOne(channel, notification)));
  }

  async #sendOne(channel: string, notification: Notification): Promise<ChannelResult> {
    const notifier = this.#notifiers.get(channel);
    let result: ChannelResult;
    if (!notifier) {
      result = {
        channel,
        ok: false,
        warning: `not configured: ${this.#notConfigured[channel] ?? (channel in this.policy.channels ? 'no notifier was given for it' : 'the policy has no such channel')}`,
      };
    } else {
      try {
        await notifier.send(notification);
        result = { channel, ok: true };
      } catch (error) {
        // A NotifyError is written to be safe to show; anything else might quote an address.
        result = {
          channel,
          ok: false,
          error:
            error instanceof NotifyError
              ? error.message
              : hideUrls(`${(error as Error).name}: ${(error as Error).message}`),
        };
      }
    }
    this.#sent?.inc({
      channel,
      kind: notification.kind,
      result: result.ok ? 'sent' : result.warning ? 'not_configured' : 'failed',
    });
    return result;
  }
}

function notifierFor(
  name: string,
  channel: Channel,
  url: string,
  setting: string,
  options: EnvironmentOptions,
): Notifier {
  if (channel.type === 'webhook')
    return new WebhookNotifier({ name, url, setting, timeoutMs: options.webhookTimeoutMs });
  return new EmailNotifier({
    name,
    smtpUrl: url,
    setting,
    from: channel.from,
    to: channel.to,
    timeoutMs: options.emailTimeoutMs,
  });
}
