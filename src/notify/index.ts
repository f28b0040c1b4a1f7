/**
 * Telling people about incidents: chat webhooks and email, chosen per priority by the escalation
 * policy (deploy/incidents/escalation-policy.yml). See docs/notifications.md.
 */
export {
  NotifyError,
  type Notification,
  type NotificationKind,
  type NotificationPriority,
  type Notifier,
  type NotifyErrorCode,
} from './notifier.ts';
export { WebhookNotifier, type WebhookOptions } from './webhook.ts';
export { EmailNotifier, type EmailOptions } from './email.ts';
export {
  DEFAULT_ESCALATION_POLICY,
  loadEscalationPolicy,
  parseEscalationPolicy,
  type Channel,
  type EmailChannel,
  type Env,
  type EscalationPolicy,
  type PriorityPolicy,
  type WebhookChannel,
} from './policy.ts';
export { Dispatcher, type ChannelResult, type DispatcherOptions, type EnvironmentOptions } from './dispatcher.ts';
export { tryChannel } from './try-channel.ts';
