import { z } from 'zod';
import { appendAuditEvent, type AuditEvent } from '../audit/index.ts';
import { ENVIRONMENTS } from '../environments/index.ts';
import { EntitleError, type Problem } from '../errors/index.ts';
import { personHandle, samePerson } from '../people/index.ts';
import { freezeWindowAt, type FreezeWindow } from '../freeze-windows/index.ts';
import type { Database, Queryable } from '../store/index.ts';
import { formatLondon } from '../uk-time/index.ts';

export const STRATEGIES = ['rolling', 'canary', 'blue-green', 'rollback'] as const;

/**
 * How long after a deploy (or a rollback) the environment is watched more closely: the burn-rate
 * alerts page at a lower threshold (the `page-after-deploy` tier) until it ends (heightened.ts).
 */
export const HEIGHTENED_HOURS = 24;

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
  // The whole commit: an abbreviation of 7 characters can be matched by another commit made to match it.
  commit: z.string().regex(/^[0-9a-f]{40}$/, 'give the whole git commit: 40 lower-case hex characters'),
  operator: z.string().trim().min(1, 'give the name of the person deploying').max(200),
  strategy: z.enum(STRATEGIES),
  approvals: z.array(z.string().trim().min(1).max(200)).max(10),
  verification: z.string().trim().min(1, 'say what verified it: a smoke test run, a pipeline run URL').max(500),
});
export type DeployRecord = z.infer<typeof deployRecordSchema>;

function problemsOf(error: z.ZodError): Problem[] {
  return error.issues.map((issue) => ({ field: String(issue.path[0] ?? 'record'), message: issue.message }));
}

/** What an approval names: exactly the build that may be deployed where. */
export const deployApprovalSchema = z.strictObject({
  environment: deployRecordSchema.shape.environment,
  version: deployRecordSchema.shape.version,
  commit: deployRecordSchema.shape.commit,
  emergency: z.boolean().default(false),
  reason: z.string().trim().min(1, 'say why it may go ahead').max(2_000),
});
export type DeployApprovalInput = z.input<typeof deployApprovalSchema>;

export interface DeployApproval {
  readonly environment: string;
  readonly version: string;
  readonly commit: string;
  readonly emergency: boolean;
  readonly approver: string;
  readonly reason: string;
  readonly at: string;
}

/**
 * An approver's approval of one build (version and commit) for one environment, recorded in the
 * audit chain as done by the person holding the key: the deploy's two-person rule and a freeze
 * override are then proven by people's own keys, never by names typed into a pipeline.
 */
export async function approveDeploy(
  db: Database,
  input: DeployApprovalInput,
  approver: string,
): Promise<DeployApproval> {
  const parsed = deployApprovalSchema.safeParse(input);
  if (!parsed.success)
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the approval is not valid', problemsOf(parsed.error));
  const { environment, version, commit, emergency, reason } = parsed.data;
  const event = await db.transaction((tx) =>
    appendAuditEvent(tx, {
      actor: approver,
      action: 'deploy.approved',
      subject: environment,
      reason,
      evidence: { version, commit, emergency },
    }),
  );
  return { environment, version, commit, emergency, approver, reason, at: event.at };
}

/**
 * The approvals of a build for an environment, oldest first: every one (an emergency approval
 * approves the build too), or only the emergency ones.
 */
export async function deployApprovals(
  db: Queryable,
  build: { readonly environment: string; readonly version: string; readonly commit: string },
  emergency: boolean,
): Promise<DeployApproval[]> {
  const { rows } = await db.query<{ actor: string; at: string; reason: string; evidence: Record<string, unknown> }>(
    `SELECT actor, at, reason, evidence FROM audit_events
      WHERE action = 'deploy.approved' AND subject = $1 AND evidence->>'version' = $2 ORDER BY seq`,
    [build.environment, build.version],
  );
  return rows
    .filter((r) => r.evidence.commit === build.commit && (r.evidence.emergency === true || !emergency))
    .map((r) => ({
      environment: build.environment,
      version: build.version,
      commit: String(r.evidence.commit),
      emergency: r.evidence.emergency === true,
      approver: r.actor,
      reason: r.reason,
      at: r.at,
    }));
}

/** The people, other than `besides`, who approved: each once, however many keys they used. */
function approversOf(approvals: readonly DeployApproval[], besides: string): string[] {
  const people = new Map<string, string>();
  for (const a of approvals) if (!samePerson(a.approver, besides)) people.set(personHandle(a.approver), a.approver);
  return [...people.values()];
}

/**
 * How many people other than the pipeline's key holder must approve a production build. Two: the
 * person who starts the pipeline acts through it, not with their own key, so one approval could
 * be theirs; two people's keys make sure a second person agreed.
 */
export const PRODUCTION_APPROVERS = 2;

/** Refuses a production build fewer than PRODUCTION_APPROVERS people other than `operator` approved. */
function requireApprovals(build: Build, operator: string, approvers: readonly string[]): void {
  if (build.environment !== 'production' || approvers.length >= PRODUCTION_APPROVERS) return;
  throw new EntitleError(
    'ENTITLE_DEPLOY_APPROVAL_REQUIRED',
    `version ${build.version} (commit ${build.commit.slice(0, 12)}) needs ${PRODUCTION_APPROVERS} approvers other than ${operator} for production; ${approvers.length === 0 ? 'it has none' : `it has only ${approvers.join(', ')}`}`,
    [
      {
        field: 'approvals',
        message: `approvers each run "entitle deploy approve --environment production --version ${build.version} --commit ${build.commit} --reason ..." with their own key`,
      },
    ],
  );
}

/**
 * Records a deploy (or a rollback: strategy `rollback`) in the audit chain, as done by `operator`,
 * the person holding the key (the pipeline's). Its approvals are the people who approved this
 * build for this environment with their own keys; production needs two other than the operator.
 */
export async function recordDeploy(
  db: Database,
  input: Omit<DeployRecord, 'timestamp' | 'approvals' | 'operator'> & { readonly timestamp?: string },
  operator: string,
): Promise<{ record: DeployRecord; event: AuditEvent }> {
  const parsed = deployRecordSchema.safeParse({
    ...input,
    operator,
    approvals: [],
    timestamp: input.timestamp ?? new Date().toISOString(),
  });
  if (!parsed.success)
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the deploy record is not valid', problemsOf(parsed.error));
  const approvals = approversOf(await deployApprovals(db, parsed.data, false), parsed.data.operator);
  const record: DeployRecord = { ...parsed.data, approvals };
  requireApprovals(record, record.operator, approvals);
  const action = record.strategy === 'rollback' ? 'deploy.rolled_back' : 'deploy.recorded';
  const reason = `version ${record.version} (commit ${record.commit.slice(0, 12)}), ${record.strategy}, by ${record.operator}`;
  // The record opens the environment's heightened window (heightened.ts); its end is recorded with it.
  const heightenedUntil = new Date(Date.parse(record.timestamp) + HEIGHTENED_HOURS * 3_600_000).toISOString();
  const event = await db.transaction((tx) =>
    appendAuditEvent(tx, {
      actor: record.operator,
      action,
      subject: record.environment,
      reason,
      evidence: { record, heightenedUntil },
    }),
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
  /** Given a build: the people other than the one asking who approved it. */
  readonly approvals?: readonly string[];
}

/** An emergency approval counts for this long: an override is approved for now, not for next month. */
export const EMERGENCY_APPROVAL_HOURS = 24;

/** A build: one version, from one commit, for one environment. */
export interface Build {
  readonly environment: string;
  readonly version: string;
  readonly commit: string;
}

/**
 * Whether a deploy may go ahead, checked by the pipeline before anything changes. Not inside a
 * freeze window (the same windows that hold rule releases: payment days, the April uprating),
 * unless two people other than the one asking have approved an emergency override of this build
 * with their own keys in the last 24 hours, with a reason; the override is recorded in the audit
 * chain. Given a production build, it also needs the approvals recordDeploy will need, so a
 * deploy not approved stops before it starts.
 */
export async function checkDeployWindow(
  db: Database,
  at: Date,
  request: { readonly build?: Build; readonly emergency?: { readonly reason: string }; readonly actor: string },
): Promise<WindowCheck> {
  const { build, actor } = request;
  const approvals = build ? approversOf(await deployApprovals(db, build, false), actor) : undefined;
  if (build) requireApprovals(build, actor, approvals!);
  const emergency = request.emergency && build ? { ...build, reason: request.emergency.reason, actor } : undefined;
  if (request.emergency && !build)
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'an emergency override names the build it lets through', [
      { field: 'build', message: 'give the environment, version and commit of the build' },
    ]);
  const frozen = await freezeWindowAt(db, at);
  if (!frozen) return { open: true, ...(approvals ? { approvals } : {}) };
  if (!emergency) {
    throw new EntitleError(
      'ENTITLE_FREEZE_WINDOW',
      `deploys are frozen until ${formatLondon(frozen.endsAt)}: ${frozen.reason}`,
      [
        {
          field: 'emergency',
          message:
            'wait for the window to end, or have two approvers run "entitle deploy approve --emergency" for this build and check again with --emergency',
        },
      ],
    );
  }
  if (!emergency.reason.trim())
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'an emergency override needs a reason', [
      { field: 'reason', message: 'say why the freeze must be overridden' },
    ]);
  const since = Date.now() - EMERGENCY_APPROVAL_HOURS * 3_600_000;
  const recent = (await deployApprovals(db, emergency, true)).filter((a) => Date.parse(a.at) >= since);
  const approvers = approversOf(recent, emergency.actor);
  if (approvers.length < 2)
    throw new EntitleError(
      'ENTITLE_DEPLOY_APPROVAL_REQUIRED',
      `an emergency override needs two approvers other than ${emergency.actor}; ${approvers.length === 0 ? 'none has' : `only ${approvers[0]} has`} approved version ${emergency.version} in the last ${EMERGENCY_APPROVAL_HOURS} hours`,
      [
        {
          field: 'emergency',
          message: `two approvers each run "entitle deploy approve --emergency --environment ${emergency.environment} --version ${emergency.version} --commit ${emergency.commit} --reason ..." with their own key`,
        },
      ],
    );
  await db.transaction((tx) =>
    appendAuditEvent(tx, {
      actor: emergency.actor,
      action: 'deploy.freeze_overridden',
      subject: frozen.id,
      reason: emergency.reason.trim(),
      evidence: {
        approvers,
        environment: emergency.environment,
        version: emergency.version,
        commit: emergency.commit,
        window: frozen,
        at: at.toISOString(),
      },
    }),
  );
  return { open: true, frozen, overriddenBy: approvers, ...(approvals ? { approvals } : {}) };
}
