import { z } from 'zod';
import { appendAuditEvent, type AuditEvent } from '../audit/index.ts';
import { ENVIRONMENTS } from '../environments/index.ts';
import { EntitleError, type Problem } from '../errors/index.ts';
import { freezeWindowAt, type FreezeWindow } from '../freeze-windows/index.ts';
import type { Database, Queryable } from '../store/index.ts';
import { formatLondon } from '../uk-time/index.ts';

export const STRATEGIES = ['rolling', 'canary', 'blue-green', 'rollback'] as const;

/**
 * The deploy record, in the JSON format OPERATIONS.md states: who deployed what version and commit
 * where, how, with whose approval, and what verified it. Stored whole in the audit chain.
 */
export const deployRecordSchema = z.strictObject({
  timestamp: z.iso.datetime(),
  environment: z.enum(ENVIRONMENTS),
  version: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .regex(/^[\w.+-]+$/, 'give a version such as 1.4.2 or 2026.11.22-1'),
  commit: z.string().regex(/^[0-9a-f]{7,40}$/, 'give the git commit as 7 to 40 lower-case hex characters'),
  operator: z.string().trim().min(1, 'give the name of the person deploying').max(200),
  strategy: z.enum(STRATEGIES),
  approvals: z.array(z.string().trim().min(1).max(200)).max(10),
  verification: z.string().trim().min(1, 'say what verified it: a smoke test run, a pipeline run URL').max(500),
});
export type DeployRecord = z.infer<typeof deployRecordSchema>;

function problemsOf(error: z.ZodError): Problem[] {
  return error.issues.map((issue) => ({ field: `--${String(issue.path[0] ?? 'record')}`, message: issue.message }));
}

/**
 * Records a deploy (or a rollback: strategy `rollback`) in the audit chain. Production follows the
 * two-person rule: someone other than the operator must have approved it.
 */
export async function recordDeploy(
  db: Database,
  input: Omit<DeployRecord, 'timestamp'> & { readonly timestamp?: string },
): Promise<{ record: DeployRecord; event: AuditEvent }> {
  const parsed = deployRecordSchema.safeParse({ ...input, timestamp: input.timestamp ?? new Date().toISOString() });
  if (!parsed.success)
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the deploy record is not valid', problemsOf(parsed.error));
  const record = parsed.data;
  if (record.environment === 'production' && !record.approvals.some((a) => a !== record.operator)) {
    throw new EntitleError(
      'ENTITLE_INPUT_INVALID',
      'a production deploy needs the approval of someone other than the operator',
      [{ field: '--approvals', message: 'name who approved it (the two-person rule): not only the person deploying' }],
    );
  }
  const action = record.strategy === 'rollback' ? 'deploy.rolled_back' : 'deploy.recorded';
  const reason = `version ${record.version} (commit ${record.commit.slice(0, 12)}), ${record.strategy}, by ${record.operator}`;
  const event = await db.transaction((tx) =>
    appendAuditEvent(tx, { actor: record.operator, action, subject: record.environment, reason, evidence: { record } }),
  );
  return { record, event };
}

/** Deploys and rollbacks, newest first, from the audit chain. */
export async function deployHistory(
  db: Queryable,
  environment?: string,
  limit = 100,
): Promise<(DeployRecord & { readonly action: string; readonly seq: number })[]> {
  const values: unknown[] = [limit];
  const where = environment ? 'AND subject = $2' : '';
  if (environment) values.push(environment);
  const { rows } = await db.query<{ seq: number; action: string; evidence: { record: DeployRecord } }>(
    `SELECT seq, action, evidence FROM audit_events WHERE action IN ('deploy.recorded', 'deploy.rolled_back') ${where} ORDER BY seq DESC LIMIT $1`,
    values,
  );
  return rows.map((r) => ({ ...r.evidence.record, action: r.action, seq: Number(r.seq) }));
}

export interface WindowCheck {
  readonly open: boolean;
  /** The freeze window in force, if any. */
  readonly frozen?: FreezeWindow;
  /** Set when an emergency override let the deploy go ahead inside a freeze. */
  readonly overriddenBy?: readonly string[];
}

/**
 * Whether a deploy may go ahead now: not inside a freeze window (the same windows that hold rule
 * releases: payment days, the April uprating), unless two people approve an emergency override
 * with a reason, which is recorded in the audit chain.
 */
export async function checkDeployWindow(
  db: Database,
  at: Date,
  emergency?: { readonly approvers: readonly string[]; readonly reason: string; readonly actor: string },
): Promise<WindowCheck> {
  const frozen = await freezeWindowAt(db, at);
  if (!frozen) return { open: true };
  if (!emergency) {
    throw new EntitleError(
      'ENTITLE_FREEZE_WINDOW',
      `deploys are frozen until ${formatLondon(frozen.endsAt)}: ${frozen.reason}`,
      [
        {
          field: '--emergency',
          message: 'wait for the window to end, or give --emergency with --approvals of two people and a --reason',
        },
      ],
    );
  }
  const approvers = [...new Set(emergency.approvers.map((a) => a.trim()).filter(Boolean))];
  const problems: Problem[] = [];
  if (approvers.length < 2)
    problems.push({ field: '--approvals', message: 'an emergency override needs two different approvers' });
  if (!emergency.reason.trim()) problems.push({ field: '--reason', message: 'say why the freeze must be overridden' });
  if (problems.length > 0)
    throw new EntitleError('ENTITLE_FREEZE_WINDOW', 'the emergency override is not complete', problems);
  await db.transaction((tx) =>
    appendAuditEvent(tx, {
      actor: emergency.actor,
      action: 'deploy.freeze_overridden',
      subject: frozen.id,
      reason: emergency.reason.trim(),
      evidence: { approvers, window: frozen, at: at.toISOString() },
    }),
  );
  return { open: true, frozen, overriddenBy: approvers };
}
