/**
 * Sends a test notification to one channel, exactly as the service would, and says what became
 * of it (`entitle notify test CHANNEL`). Status 0 when the channel took it, 1 when it did not,
 * 2 when the policy or channel name is wrong.
 */
import { formatProblem } from '../errors/index.ts';
import { Dispatcher, type ChannelResult } from './dispatcher.ts';
import { NotifyError, type Notification } from './notifier.ts';
import { loadEscalationPolicy, type Env } from './policy.ts';

const TEST_NOTIFICATION: Notification = {
  kind: 'updated',
  incidentId: 'TEST',
  priority: 'P4',
  title: 'Test notification from Entitle',
  text: 'An operator sent this to check the channel works. No incident is open and nothing needs doing.',
};

/** Sends the test notification to `channel` of the policy the environment names. */
export async function tryChannel(channel: string, env: Env): Promise<{ status: 0 | 1 | 2; lines: string[] }> {
  let dispatcher: Dispatcher;
  try {
    dispatcher = Dispatcher.fromEnvironment(await loadEscalationPolicy(env), env);
  } catch (error) {
    if (!(error instanceof NotifyError)) throw error;
    return { status: 2, lines: [error.message, ...error.problems.map((p) => `  ${formatProblem(p)}`)] };
  }
  const channels = Object.keys(dispatcher.policy.channels);
  if (!channels.includes(channel))
    return {
      status: 2,
      lines: [`${dispatcher.policy.file} has no channel named "${channel}": the channels are ${channels.join(', ')}`],
    };
  const [result] = (await dispatcher.sendTo([channel], TEST_NOTIFICATION)) as [ChannelResult];
  if (result.ok) return { status: 0, lines: [`channel "${channel}" took the test notification: check it arrived`] };
  return { status: 1, lines: [`channel "${channel}": ${result.error ?? result.warning}`] };
}
