import { loadEscalationPolicy, type Env } from '../notify/index.ts';
import type { Priority } from './model.ts';
import type { PriorityTiming } from './repository.ts';

/**
 * Response and update times by priority, as the escalation policy in use says (the service's
 * reminders follow the same file), so "overdue" means the same in every view.
 */
export async function priorityTimings(env: Env): Promise<(priority: Priority) => PriorityTiming> {
  const policy = await loadEscalationPolicy(env);
  return (priority) => policy.priorities[priority];
}
