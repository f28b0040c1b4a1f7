import { appendAuditEvent, auditEventsFor, type AuditEvent } from '../audit/index.ts';
import { ENVIRONMENTS, type Environment } from '../environments/index.ts';
import { EntitleError } from '../errors/index.ts';
import { samePerson } from '../keys/index.ts';
import type { Database, Queryable } from '../store/index.ts';
import {
  DATE,
  DECLARED_FLAGS,
  isStale,
  stateOf,
  type DeclaredFlag,
  type Flag,
  type FlagChange,
  type FlagSettings,
  type FlagState,
} from './model.ts';

/** Every flag change is announced here, in its own transaction; instances also poll the audit head. */
export const FLAG_CHANNEL = 'entitle_flags';

interface FlagRow {
  key: string;
  description: string;
  kind: Flag['kind'];
  owner: string;
  expires_on: string;
  enabled: boolean;
  rollout_basis_points: number;
  updated_at: string;
  updated_by: string;
}

interface ChangeRow {
  id: string;
  flag_key: string;
  status: FlagChange['status'];
  before: FlagState;
  after: FlagState;
  reason: string;
  requested_by: string;
  requested_at: string;
  decided_by: string | null;
  decided_at: string | null;
}

function flagOf(row: FlagRow): Flag {
  return {
    key: row.key,
    description: row.description,
    kind: row.kind,
    owner: row.owner,
    expiresOn: row.expires_on,
    enabled: row.enabled,
    rolloutBasisPoints: Number(row.rollout_basis_points),
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

function changeOf(row: ChangeRow): FlagChange {
  return {
    id: row.id,
    flagKey: row.flag_key,
    status: row.status,
    before: row.before,
    after: row.after,
    reason: row.reason,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
  };
}

const subjectOf = (key: string) => `flag:${key}`;

/**
 * Adds the flags the code declares and the database does not have yet, each with an audit event.
 * A flag already there keeps its value: the database, not the code, says what is switched on.
 */
export async function seedFlags(db: Database, declared: readonly DeclaredFlag[] = DECLARED_FLAGS): Promise<void> {
  await db.transaction(async (tx) => {
    let added = false;
    for (const flag of declared) {
      const now = new Date().toISOString();
      const { rows } = await tx.query(
        `INSERT INTO feature_flags (key, description, kind, owner, expires_on, enabled, rollout_basis_points, created_at, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 'entitle') ON CONFLICT (key) DO NOTHING RETURNING key`,
        [flag.key, flag.description, flag.kind, flag.owner, flag.expiresOn, flag.enabled, flag.rolloutBasisPoints, now],
      );
      if (rows.length === 0) continue;
      added = true;
      await appendAuditEvent(tx, {
        actor: 'entitle',
        action: 'flag.created',
        subject: subjectOf(flag.key),
        reason: 'declared by the code and seeded on start',
        evidence: {
          kind: flag.kind,
          after: {
            enabled: flag.enabled,
            rolloutBasisPoints: flag.rolloutBasisPoints,
            owner: flag.owner,
            expiresOn: flag.expiresOn,
          },
        },
      });
    }
    if (added) await tx.query('SELECT pg_notify($1, $2)', [FLAG_CHANNEL, 'seeded']);
  });
}

export async function listFlags(db: Queryable): Promise<Flag[]> {
  const { rows } = await db.query<FlagRow>('SELECT * FROM feature_flags ORDER BY key');
  return rows.map(flagOf);
}

export async function getFlag(db: Queryable, key: string, forUpdate = false): Promise<Flag> {
  const { rows } = await db.query<FlagRow>(
    `SELECT * FROM feature_flags WHERE key = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [key],
  );
  if (!rows[0])
    throw new EntitleError('ENTITLE_FLAG_NOT_FOUND', `there is no flag "${key}"`, [
      { field: 'flag', message: 'use a key that "entitle flags list" shows' },
    ]);
  return flagOf(rows[0]);
}

/** The environment the service recorded; development until a service says otherwise. */
export async function recordedEnvironment(db: Queryable): Promise<Environment> {
  const { rows } = await db.query<{ value: Environment }>(
    "SELECT value FROM service_settings WHERE name = 'environment'",
  );
  return rows[0]?.value ?? 'development';
}

/**
 * Records the environment the service is configured for, only ever raising it: a database once
 * used in production needs two people for every flag change from then on, whatever a later
 * configuration or command says.
 */
export async function recordEnvironment(db: Database, environment: Environment, actor: string): Promise<Environment> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ value: Environment }>(
      "SELECT value FROM service_settings WHERE name = 'environment' FOR UPDATE",
    );
    const current = rows[0]?.value ?? 'development';
    if (rows[0] && ENVIRONMENTS.indexOf(environment) <= ENVIRONMENTS.indexOf(current)) return current;
    const now = new Date().toISOString();
    await tx.query(
      `INSERT INTO service_settings (name, value, updated_at, updated_by) VALUES ('environment', $1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
      [environment, now, actor],
    );
    await appendAuditEvent(tx, {
      actor,
      action: 'service.environment_recorded',
      subject: 'service:environment',
      reason: 'from ENTITLE_ENVIRONMENT when the service started',
      evidence: { from: current, to: environment },
    });
    return environment;
  });
}

export interface ChangeRequest {
  readonly key: string;
  readonly settings: FlagSettings;
  readonly actor: string;
  readonly reason: string;
}

export interface ChangeResult {
  readonly change: FlagChange;
  readonly flag: Flag;
  /** Whether it took effect now (false: it waits for a second person's approval). */
  readonly applied: boolean;
}

function checkSettings(settings: FlagSettings, flag: Flag): FlagState {
  const problems: { field: string; message: string }[] = [];
  const after: FlagState = { ...stateOf(flag), ...settings };
  if (
    !Number.isInteger(after.rolloutBasisPoints) ||
    after.rolloutBasisPoints < 0 ||
    after.rolloutBasisPoints > 10_000
  ) {
    problems.push({ field: 'rollout', message: 'give a percentage from 0 to 100, with at most two decimal places' });
  }
  if (flag.kind !== 'release' && after.rolloutBasisPoints !== 10_000)
    problems.push({
      field: 'rollout',
      message: `"${flag.key}" is a ${flag.kind}: it is on or off for every application, so give no rollout`,
    });
  if (!DATE.test(after.expiresOn) || Number.isNaN(Date.parse(after.expiresOn)))
    problems.push({ field: 'expires', message: 'give the expiry date as YYYY-MM-DD' });
  if (after.owner.trim() === '' || after.owner.length > 100)
    problems.push({ field: 'owner', message: 'give the owning team, 1 to 100 characters' });
  if (problems.length > 0) throw new EntitleError('ENTITLE_INPUT_INVALID', 'the flag change is not valid', problems);
  return after;
}

function checkWords(actor: string, reason: string): void {
  const problems = [
    ...(actor.trim() === ''
      ? [
          {
            field: 'actor',
            message:
              'a change is made by a person (the holder of the key): the audit chain records who changed the flag',
          },
        ]
      : []),
    ...(reason.trim() === ''
      ? [{ field: 'reason', message: 'give the reason with --reason: the audit chain records why' }]
      : []),
  ];
  if (problems.length > 0) throw new EntitleError('ENTITLE_INPUT_INVALID', 'a flag change needs who and why', problems);
}

/**
 * Asks for a flag change. Outside production it is applied at once; in production it waits until
 * someone else approves it. Either way the request, and the change when applied, are audited with
 * who, before, after and why, and instances are told in the same transaction.
 */
export async function requestFlagChange(db: Database, request: ChangeRequest): Promise<ChangeResult> {
  checkWords(request.actor, request.reason);
  return db.transaction(async (tx) => {
    const flag = await getFlag(tx, request.key, true);
    const after = checkSettings(request.settings, flag);
    const pending = await tx.query<{ id: string }>(
      "SELECT id FROM feature_flag_changes WHERE flag_key = $1 AND status = 'pending'",
      [flag.key],
    );
    if (pending.rows[0]) {
      throw new EntitleError(
        'ENTITLE_FLAG_CHANGE_PENDING',
        `change ${pending.rows[0].id} to "${flag.key}" is waiting for approval`,
        [{ field: 'flag', message: `approve or reject ${pending.rows[0].id} first` }],
      );
    }
    const environment = await recordedEnvironment(tx);
    const twoPeople = environment === 'production';
    const { rows } = await tx.query<{ n: string }>("SELECT nextval('flag_change_numbers') AS n");
    const id = `FC-${rows[0]!.n}`;
    const now = new Date().toISOString();
    const before = stateOf(flag);
    await tx.query(
      `INSERT INTO feature_flag_changes (id, flag_key, status, before, after, reason, requested_by, requested_at)
       VALUES ($1, $2, 'pending', $3, $4, $5, $6, $7)`,
      [id, flag.key, JSON.stringify(before), JSON.stringify(after), request.reason, request.actor, now],
    );
    await appendAuditEvent(tx, {
      actor: request.actor,
      action: 'flag.change_requested',
      subject: subjectOf(flag.key),
      reason: request.reason,
      evidence: { change: id, environment, before, after },
    });
    if (twoPeople) return { change: await getChange(tx, id), flag, applied: false };
    const applied = await apply(tx, id, flag, after, request.actor, null, request.reason);
    return { change: await getChange(tx, id), flag: applied, applied: true };
  });
}

async function apply(
  tx: Queryable,
  changeId: string,
  flag: Flag,
  after: FlagState,
  requestedBy: string,
  approvedBy: string | null,
  reason: string,
): Promise<Flag> {
  const now = new Date().toISOString();
  const by = approvedBy ?? requestedBy;
  await tx.query(
    'UPDATE feature_flags SET enabled = $2, rollout_basis_points = $3, owner = $4, expires_on = $5, updated_at = $6, updated_by = $7 WHERE key = $1',
    [flag.key, after.enabled, after.rolloutBasisPoints, after.owner, after.expiresOn, now, by],
  );
  await tx.query("UPDATE feature_flag_changes SET status = 'applied', decided_by = $2, decided_at = $3 WHERE id = $1", [
    changeId,
    by,
    now,
  ]);
  await appendAuditEvent(tx, {
    actor: by,
    action: 'flag.changed',
    subject: subjectOf(flag.key),
    reason,
    evidence: { change: changeId, requestedBy, approvedBy, before: stateOf(flag), after },
  });
  await tx.query('SELECT pg_notify($1, $2)', [FLAG_CHANNEL, flag.key]);
  return getFlag(tx, flag.key);
}

export async function getChange(db: Queryable, id: string, forUpdate = false): Promise<FlagChange> {
  const { rows } = await db.query<ChangeRow>(
    `SELECT * FROM feature_flag_changes WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  if (!rows[0])
    throw new EntitleError('ENTITLE_FLAG_CHANGE_NOT_FOUND', `there is no flag change "${id}"`, [
      { field: 'change', message: 'use an id that "entitle flags pending" shows, such as FC-3' },
    ]);
  return changeOf(rows[0]);
}

async function pendingChange(tx: Queryable, id: string): Promise<FlagChange> {
  const change = await getChange(tx, id, true);
  if (change.status !== 'pending') {
    throw new EntitleError('ENTITLE_FLAG_CHANGE_NOT_FOUND', `flag change ${id} is already ${change.status}`, [
      { field: 'change', message: 'only a change waiting for approval can be approved or rejected' },
    ]);
  }
  return change;
}

/** The second person's approval: applies the change, unless the flag moved since it was asked for. */
export async function approveFlagChange(
  db: Database,
  id: string,
  actor: string,
  reason: string,
): Promise<ChangeResult> {
  checkWords(actor, reason);
  return db.transaction(async (tx) => {
    const change = await pendingChange(tx, id);
    if (samePerson(change.requestedBy, actor)) {
      throw new EntitleError('ENTITLE_FLAG_APPROVAL_REQUIRED', `${actor} asked for ${id}, so cannot approve it`, [
        { field: 'approver', message: 'a second person must approve a flag change in production, with their own key' },
      ]);
    }
    const flag = await getFlag(tx, change.flagKey, true);
    const applied = await apply(
      tx,
      id,
      flag,
      change.after,
      change.requestedBy,
      actor,
      `${change.reason} (approved: ${reason})`,
    );
    return { change: await getChange(tx, id), flag: applied, applied: true };
  });
}

export async function rejectFlagChange(db: Database, id: string, actor: string, reason: string): Promise<FlagChange> {
  checkWords(actor, reason);
  return db.transaction(async (tx) => {
    const change = await pendingChange(tx, id);
    const now = new Date().toISOString();
    await tx.query(
      "UPDATE feature_flag_changes SET status = 'rejected', decided_by = $2, decided_at = $3 WHERE id = $1",
      [id, actor, now],
    );
    await appendAuditEvent(tx, {
      actor,
      action: 'flag.change_rejected',
      subject: subjectOf(change.flagKey),
      reason,
      evidence: { change: id, requestedBy: change.requestedBy, before: change.before, after: change.after },
    });
    return getChange(tx, id);
  });
}

export async function pendingFlagChanges(db: Queryable): Promise<FlagChange[]> {
  const { rows } = await db.query<ChangeRow>(
    "SELECT * FROM feature_flag_changes WHERE status = 'pending' ORDER BY requested_at",
  );
  return rows.map(changeOf);
}

/** A flag's story from the audit chain: created, each request, approval, rejection, with who and why. */
export async function flagHistory(db: Queryable, key: string): Promise<AuditEvent[]> {
  await getFlag(db, key);
  return auditEventsFor(db, subjectOf(key));
}

/** Flags past their expiry date (London's date is close enough to UTC's for a date check). */
export async function staleFlags(db: Queryable, today = new Date().toISOString().slice(0, 10)): Promise<Flag[]> {
  return (await listFlags(db)).filter((flag) => isStale(flag, today));
}
