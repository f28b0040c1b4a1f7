import { appendAuditEvent } from '../audit/index.ts';
import { EntitleError, type Problem } from '../errors/index.ts';
import { SLOS } from '../slos/index.ts';
import type { Database, Queryable } from '../store/index.ts';
import { workingDaysAfter } from '../uk-time/index.ts';
import {
  INCIDENT_ROLES,
  OPEN_STATUSES,
  PRIORITIES,
  PRIORITY_DEFINITIONS,
  STATUSES,
  TRANSITIONS,
  type EntryKind,
  type Incident,
  type IncidentEntry,
  type IncidentRole,
  type IncidentSource,
  type IncidentStatus,
  type Priority,
  type RoleAssignment,
} from './model.ts';

/** Days a post-incident review is due in, after resolution (GDS Way: within 5 working days). */
export const REVIEW_WITHIN_WORKING_DAYS = 5;

interface IncidentRow {
  id: string;
  title: string;
  priority: Priority;
  status: IncidentStatus;
  citizen_message: string | null;
  benefits: string[];
  journeys: string[];
  roles: RoleAssignment[];
  source: IncidentSource;
  release_ids: string[];
  runbook: string | null;
  dedup_key: string | null;
  started_at: string;
  declared_at: string;
  declared_by: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  last_update_at: string;
  resolved_at: string | null;
  reviewed_at: string | null;
  review_due_at: string | null;
  reminded_at: string | null;
  escalated_at: string | null;
  notified_at: string | null;
  resolution_notified_at: string | null;
  pending_notice: string | null;
}

/** What the service needs beyond the public Incident: when it last reminded and escalated. */
export interface StoredIncident extends Incident {
  readonly dedupKey: string | null;
  readonly remindedAt: string | null;
  readonly escalatedAt: string | null;
}

function fromRow(row: IncidentRow): StoredIncident {
  return {
    id: row.id,
    title: row.title,
    priority: row.priority,
    status: row.status,
    citizenMessage: row.citizen_message,
    benefits: row.benefits,
    journeys: row.journeys,
    roles: row.roles,
    source: row.source,
    releaseIds: row.release_ids,
    runbook: row.runbook,
    startedAt: row.started_at,
    declaredAt: row.declared_at,
    declaredBy: row.declared_by,
    acknowledgedAt: row.acknowledged_at,
    acknowledgedBy: row.acknowledged_by,
    lastUpdateAt: row.last_update_at,
    resolvedAt: row.resolved_at,
    reviewedAt: row.reviewed_at,
    reviewDueAt: row.review_due_at,
    dedupKey: row.dedup_key,
    remindedAt: row.reminded_at,
    escalatedAt: row.escalated_at,
  };
}

const OPEN_SQL = `status IN (${OPEN_STATUSES.map((s) => `'${s}'`).join(', ')})`;
const TITLE_MAX = 200;
const TEXT_MAX = 5_000;
const CITIZEN_MESSAGE_MAX = 1_000;

function invalid(problems: Problem[]): EntitleError {
  return new EntitleError(
    'ENTITLE_INPUT_INVALID',
    problems.length === 1 ? problems[0]!.message : `${problems.length} fields are not valid`,
    problems,
  );
}

// NUL and other control characters (but tab and newline) cannot be stored or shown.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function checkText(
  problems: Problem[],
  field: string,
  value: string | undefined,
  max: number,
  required: boolean,
): string | undefined {
  const text = value?.trim();
  if (!text) {
    if (required) problems.push({ field, message: `give ${field}` });
    return undefined;
  }
  if (text.length > max) problems.push({ field, message: `${field} must be at most ${max} characters` });
  if (CONTROL.test(text)) problems.push({ field, message: `remove the control characters from ${field}` });
  return text;
}

/** Benefits must be ones Entitle decides: a typo would silently empty the impact figures. */
async function checkBenefits(
  db: Queryable,
  problems: Problem[],
  field: string,
  benefits: readonly string[] | undefined,
): Promise<string[] | undefined> {
  if (benefits === undefined) return undefined;
  const { rows } = await db.query<{ benefit: string }>(
    'SELECT benefit FROM active_rulesets UNION SELECT benefit FROM ruleset_versions ORDER BY benefit',
  );
  const known = rows.map((r) => r.benefit);
  // A database that has never served a benefit cannot say which exist.
  const unknown = known.length === 0 ? [] : benefits.filter((b) => !known.includes(b));
  if (unknown.length > 0)
    problems.push({
      field,
      message: `unknown benefit ${unknown.map((u) => u.slice(0, 64)).join(', ')}: give any of ${known.join(', ')}`,
    });
  return [...new Set(benefits)];
}

/** Releases named must exist: the impact reads their decisions. */
async function checkReleases(
  db: Queryable,
  problems: Problem[],
  field: string,
  releaseIds: readonly string[] | undefined,
): Promise<void> {
  for (const id of releaseIds ?? []) {
    const { rows } = /^[0-9a-f-]{36}$/i.test(id)
      ? await db.query('SELECT 1 FROM releases WHERE id = $1', [id])
      : { rows: [] };
    if (rows.length === 0)
      problems.push({
        field,
        message: `there is no release ${/^[\w-]{1,40}$/.test(id) ? id : ''}: give an id as "entitle release list" shows it`,
      });
  }
}

export function parsePriority(value: string | undefined, field = 'priority'): Priority {
  const upper = value?.trim().toUpperCase();
  if (!upper || !(PRIORITIES as readonly string[]).includes(upper)) {
    throw invalid([
      {
        field,
        message: `give P1, P2, P3 or P4 (P1: ${PRIORITY_DEFINITIONS.P1.meaning}; P2: ${PRIORITY_DEFINITIONS.P2.meaning})`,
      },
    ]);
  }
  return upper as Priority;
}

function checkJourneys(problems: Problem[], field: string, journeys: readonly string[] | undefined): string[] {
  const known = SLOS.map((s) => s.id);
  const unknown = (journeys ?? []).filter((j) => !known.includes(j));
  if (unknown.length > 0)
    problems.push({ field, message: `unknown journey ${unknown.join(', ')}: give any of ${known.join(', ')}` });
  return [...new Set(journeys ?? [])];
}

function checkInstant(problems: Problem[], field: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    problems.push({ field, message: `${field} must be a time such as 2026-11-22T03:10:00Z` });
    return undefined;
  }
  if (ms > Date.now() + 60_000) problems.push({ field, message: `${field} cannot be in the future` });
  return new Date(ms).toISOString();
}

async function addEntry(
  tx: Queryable,
  incidentId: string,
  entry: Omit<IncidentEntry, 'data'> & { data?: Record<string, unknown> },
  alertKey?: string,
): Promise<boolean> {
  const { rows } = await tx.query<{ id: number }>(
    `INSERT INTO incident_entries (incident_id, at, kind, actor, text, data, alert_key) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (incident_id, alert_key) WHERE alert_key IS NOT NULL DO NOTHING RETURNING id`,
    [incidentId, entry.at, entry.kind, entry.actor, entry.text, JSON.stringify(entry.data ?? {}), alertKey ?? null],
  );
  return rows.length > 0;
}

function audit(
  tx: Queryable,
  actor: string,
  action: string,
  incident: Incident,
  reason: string,
  evidence: Record<string, unknown> = {},
) {
  return appendAuditEvent(tx, {
    actor,
    action: `incident.${action}`,
    subject: incident.id,
    reason,
    evidence: { priority: incident.priority, status: incident.status, ...evidence },
  });
}

async function lockIncident(tx: Queryable, id: string): Promise<StoredIncident> {
  const { rows } = await tx.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1 FOR UPDATE', [normaliseId(id)]);
  if (!rows[0]) throw notFound(id);
  return fromRow(rows[0]);
}

function notFound(id: string): EntitleError {
  return new EntitleError('ENTITLE_INCIDENT_NOT_FOUND', 'there is no incident with that id', [
    {
      field: 'incident',
      message: `no incident ${/^[\w-]{1,20}$/.test(id) ? id : ''} exists: "entitle incident list --all" shows every incident`,
    },
  ]);
}

/** `7`, `inc-7` and `INC-7` all name INC-7. */
export function normaliseId(id: string): string {
  const match = /^(?:inc-?)?(\d{1,9})$/i.exec(id.trim());
  return match ? `INC-${Number(match[1])}` : id.trim();
}

export interface Declaration {
  readonly title: string;
  readonly priority: string;
  readonly actor: string;
  readonly citizenMessage?: string;
  readonly benefits?: readonly string[];
  readonly journeys?: readonly string[];
  /** When citizens were first affected (default: now). */
  readonly startedAt?: string;
  readonly text?: string;
  readonly lead?: string;
  readonly communicationsLead?: string;
  readonly runbook?: string;
  readonly source?: IncidentSource;
  readonly releaseIds?: readonly string[];
  /** An open incident with this key is returned instead of a new one. */
  readonly dedupKey?: string;
  /** Structured evidence kept on the declaration entry (an alert's labels, a release's counts). */
  readonly data?: Record<string, unknown>;
}

/**
 * Declares an incident, with its declaration entry, role assignments and audit event in one
 * transaction. With a dedupKey that an open incident already holds, returns that one instead.
 */
export async function declareIncident(
  db: Database,
  declaration: Declaration,
): Promise<{ incident: StoredIncident; created: boolean }> {
  const problems: Problem[] = [];
  const title = checkText(problems, 'title', declaration.title, TITLE_MAX, true);
  let priority: Priority | undefined;
  try {
    priority = parsePriority(declaration.priority);
  } catch (error) {
    problems.push(...(error as EntitleError).problems);
  }
  const citizenMessage = checkText(problems, 'citizenMessage', declaration.citizenMessage, CITIZEN_MESSAGE_MAX, false);
  const text = checkText(problems, 'text', declaration.text, TEXT_MAX, false);
  const journeys = checkJourneys(problems, 'journeys', declaration.journeys);
  const startedAt = checkInstant(problems, 'startedAt', declaration.startedAt);
  const lead = declaration.lead === undefined ? undefined : checkText(problems, 'lead', declaration.lead, 200, true);
  const communicationsLead =
    declaration.communicationsLead === undefined
      ? undefined
      : checkText(problems, 'communicationsLead', declaration.communicationsLead, 200, true);
  const benefits = await checkBenefits(db, problems, 'benefits', declaration.benefits);
  await checkReleases(db, problems, 'releaseIds', declaration.releaseIds);
  if (problems.length > 0) throw invalid(problems);
  const now = new Date().toISOString();
  return db.transaction(async (tx) => {
    if (declaration.dedupKey) {
      const { rows } = await tx.query<IncidentRow>(
        `SELECT * FROM incidents WHERE dedup_key = $1 AND ${OPEN_SQL} FOR UPDATE`,
        [declaration.dedupKey],
      );
      if (rows[0]) return { incident: fromRow(rows[0]), created: false };
    }
    const roles: RoleAssignment[] = [];
    if (lead) roles.push({ role: 'incident-lead', person: lead, assignedAt: now });
    if (communicationsLead) roles.push({ role: 'communications-lead', person: communicationsLead, assignedAt: now });
    const { rows } = await tx.query<IncidentRow>(
      `INSERT INTO incidents (id, title, priority, status, citizen_message, benefits, journeys, roles, source, release_ids, runbook, dedup_key, started_at, declared_at, declared_by, last_update_at)
       VALUES ('INC-' || nextval('incident_numbers'), $1, $2, 'investigating', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $12)
       ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL AND ${OPEN_SQL} DO NOTHING
       RETURNING *`,
      [
        title,
        priority,
        citizenMessage ?? null,
        JSON.stringify(benefits ?? []),
        JSON.stringify(journeys),
        JSON.stringify(roles),
        declaration.source ?? 'manual',
        JSON.stringify(declaration.releaseIds ?? []),
        declaration.runbook ?? null,
        declaration.dedupKey ?? null,
        startedAt ?? now,
        now,
        declaration.actor,
      ],
    );
    if (!rows[0]) {
      // Another instance declared it a moment ago: that one stands.
      const existing = await tx.query<IncidentRow>(`SELECT * FROM incidents WHERE dedup_key = $1 AND ${OPEN_SQL}`, [
        declaration.dedupKey,
      ]);
      return { incident: fromRow(existing.rows[0]!), created: false };
    }
    const incident = fromRow(rows[0]);
    await addEntry(tx, incident.id, {
      at: now,
      kind: 'declared',
      actor: declaration.actor,
      text: text ?? `Declared ${incident.priority}: ${incident.title}`,
      ...(declaration.data ? { data: declaration.data } : {}),
    });
    for (const role of roles)
      await addEntry(tx, incident.id, {
        at: now,
        kind: 'assigned',
        actor: declaration.actor,
        text: `${role.person} is ${roleName(role.role)}`,
        data: { role: role.role, person: role.person },
      });
    if (citizenMessage)
      await addEntry(tx, incident.id, {
        at: now,
        kind: 'citizen-message',
        actor: declaration.actor,
        text: citizenMessage,
      });
    await audit(tx, declaration.actor, 'declared', incident, incident.title, {
      source: incident.source,
      journeys,
      benefits: incident.benefits,
      releaseIds: incident.releaseIds,
    });
    return { incident, created: true };
  });
}

export function roleName(role: IncidentRole): string {
  return role.replace('-', ' ');
}

export interface IncidentChange {
  readonly actor: string;
  /** The update itself, as people following the incident read it. */
  readonly text?: string;
  readonly status?: string;
  readonly priority?: string;
  readonly citizenMessage?: string;
  readonly runbook?: string;
  readonly journeys?: readonly string[];
  readonly benefits?: readonly string[];
  readonly startedAt?: string;
  readonly releaseIds?: readonly string[];
}

/** Updates an incident: a status that follows the process, a new priority, messages, or a plain update. */
export async function updateIncident(db: Database, id: string, change: IncidentChange): Promise<StoredIncident> {
  const problems: Problem[] = [];
  const text = checkText(problems, 'text', change.text, TEXT_MAX, false);
  const citizenMessage =
    change.citizenMessage === undefined
      ? undefined
      : (checkText(problems, 'citizenMessage', change.citizenMessage, CITIZEN_MESSAGE_MAX, false) ?? '');
  const runbook = checkText(problems, 'runbook', change.runbook, 500, false);
  const journeys = change.journeys ? checkJourneys(problems, 'journeys', change.journeys) : undefined;
  const startedAt = checkInstant(problems, 'startedAt', change.startedAt);
  let status: IncidentStatus | undefined;
  if (change.status !== undefined) {
    const s = change.status.trim().toLowerCase();
    if (!(STATUSES as readonly string[]).includes(s))
      problems.push({ field: 'status', message: `give one of: ${STATUSES.join(', ')}` });
    else status = s as IncidentStatus;
  }
  let priority: Priority | undefined;
  if (change.priority !== undefined) {
    try {
      priority = parsePriority(change.priority);
    } catch (error) {
      problems.push(...(error as EntitleError).problems);
    }
  }
  if (status === 'resolved' && !text)
    problems.push({ field: 'text', message: 'say how it was resolved and how the fix was verified' });
  const benefits = await checkBenefits(db, problems, 'benefits', change.benefits);
  await checkReleases(db, problems, 'releaseIds', change.releaseIds);
  if (problems.length > 0) throw invalid(problems);
  const somethingChanges =
    text ||
    status ||
    priority ||
    citizenMessage !== undefined ||
    runbook ||
    journeys ||
    change.benefits ||
    startedAt ||
    change.releaseIds;
  if (!somethingChanges)
    throw invalid([{ field: 'text', message: 'give an update (text), a status, a priority or a citizen message' }]);

  const now = new Date().toISOString();
  return db.transaction(async (tx) => {
    const before = await lockIncident(tx, id);
    // Reviewed is the end: the record stays as the review saw it.
    if (before.status === 'reviewed') {
      throw new EntitleError('ENTITLE_INCIDENT_TRANSITION_INVALID', `${before.id} has been reviewed and is closed`, [
        { field: 'incident', message: 'declare a new incident if it happens again' },
      ]);
    }
    if (status && status !== before.status && !TRANSITIONS[before.status].includes(status)) {
      const open = TRANSITIONS[before.status];
      throw new EntitleError(
        'ENTITLE_INCIDENT_TRANSITION_INVALID',
        `${before.id} is ${before.status}; it cannot become ${status}`,
        [
          {
            field: 'status',
            message:
              open.length > 0
                ? `from ${before.status} it can become: ${open.join(', ')}`
                : `${before.status} is final: declare a new incident if it happens again`,
          },
        ],
      );
    }
    const sets: string[] = [];
    const values: unknown[] = [];
    const set = (column: string, value: unknown) => {
      values.push(value);
      sets.push(`${column} = $${values.length}`);
    };
    const entries: Omit<IncidentEntry, 'data' | 'at' | 'actor'>[] = [];
    const evidence: Record<string, unknown> = {};
    if (status && status !== before.status) {
      set('status', status);
      evidence.status = { from: before.status, to: status };
      entries.push({ kind: 'status', text: `Status: ${before.status} → ${status}` });
      if (status === 'resolved') {
        set('resolved_at', now);
        set('review_due_at', workingDaysAfter(now, REVIEW_WITHIN_WORKING_DAYS));
      }
      if (status === 'reviewed') set('reviewed_at', now);
    }
    if (priority && priority !== before.priority) {
      set('priority', priority);
      evidence.priority = { from: before.priority, to: priority };
      entries.push({ kind: 'priority', text: `Priority: ${before.priority} → ${priority}` });
      // A higher priority may mean other people: the watch tells them.
      if (priority < before.priority)
        set('pending_notice', `Priority raised from ${before.priority} to ${priority} by ${change.actor}`);
    }
    const messageChanges = citizenMessage !== undefined && citizenMessage !== (before.citizenMessage ?? '');
    if (messageChanges) {
      set('citizen_message', citizenMessage || null);
      evidence.citizenMessage = true;
      entries.push({ kind: 'citizen-message', text: citizenMessage || 'Citizen message removed from the status page' });
    }
    if (runbook && runbook !== before.runbook) {
      set('runbook', runbook);
      entries.push({ kind: 'update', text: `Runbook followed: ${runbook}` });
    }
    if (journeys) {
      set('journeys', JSON.stringify(journeys));
      evidence.journeys = journeys;
    }
    if (benefits) {
      set('benefits', JSON.stringify(benefits));
      evidence.benefits = benefits;
    }
    if (startedAt) {
      set('started_at', startedAt);
      evidence.startedAt = startedAt;
      entries.push({ kind: 'update', text: `Impact start set to ${startedAt}` });
    }
    if (change.releaseIds) {
      set('release_ids', JSON.stringify([...new Set([...before.releaseIds, ...change.releaseIds])]));
      evidence.releaseIds = change.releaseIds;
    }
    if (text) entries.push({ kind: 'update', text });
    // Anything new the people following it read counts as an update: it resets the reminder clock.
    if (text || (status && status !== before.status) || messageChanges) {
      set('last_update_at', now);
      set('reminded_at', null);
    }
    if (sets.length === 0 && entries.length === 0) return before;
    values.push(before.id);
    const { rows } =
      sets.length > 0
        ? await tx.query<IncidentRow>(
            `UPDATE incidents SET ${sets.join(', ')} WHERE id = $${values.length} RETURNING *`,
            values,
          )
        : { rows: [] as IncidentRow[] };
    const after = rows[0] ? fromRow(rows[0]) : before;
    for (const entry of entries) await addEntry(tx, after.id, { ...entry, at: now, actor: change.actor });
    await audit(
      tx,
      change.actor,
      status === 'resolved' ? 'resolved' : status === 'reviewed' ? 'reviewed' : 'updated',
      after,
      text ?? entries.map((e) => e.text).join('; '),
      evidence,
    );
    return after;
  });
}

/** Gives a person a role. There is one incident lead and one communications lead; others add up. */
export async function assignRole(
  db: Database,
  id: string,
  assignment: { readonly role: string; readonly person: string; readonly actor: string },
): Promise<StoredIncident> {
  const role = assignment.role.trim().toLowerCase();
  const problems: Problem[] = [];
  if (!(INCIDENT_ROLES as readonly string[]).includes(role))
    problems.push({ field: 'role', message: `give one of: ${INCIDENT_ROLES.join(', ')}` });
  const person = checkText(problems, 'person', assignment.person, 200, true) ?? '';
  if (problems.length > 0) throw invalid(problems);
  const now = new Date().toISOString();
  return db.transaction(async (tx) => {
    const before = await lockIncident(tx, id);
    if (before.status === 'reviewed')
      throw new EntitleError('ENTITLE_INCIDENT_TRANSITION_INVALID', `${before.id} has been reviewed and is closed`, [
        { field: 'incident', message: 'declare a new incident if it happens again' },
      ]);
    const single = role === 'incident-lead' || role === 'communications-lead';
    const kept = before.roles.filter((r) => !(r.role === role && (single || r.person === person)));
    const previous = before.roles.find((r) => r.role === role && single);
    const roles = [...kept, { role: role as IncidentRole, person, assignedAt: now }];
    const { rows } = await tx.query<IncidentRow>('UPDATE incidents SET roles = $1 WHERE id = $2 RETURNING *', [
      JSON.stringify(roles),
      before.id,
    ]);
    const after = fromRow(rows[0]!);
    const text =
      previous && previous.person !== person
        ? `${person} takes over as ${roleName(role as IncidentRole)} from ${previous.person}`
        : `${person} is ${roleName(role as IncidentRole)}`;
    await addEntry(tx, after.id, { at: now, kind: 'assigned', actor: assignment.actor, text, data: { role, person } });
    await audit(tx, assignment.actor, 'assigned', after, text, { role, person });
    return after;
  });
}

/** Someone has the incident: escalation stops. */
export async function acknowledgeIncident(db: Database, id: string, actor: string): Promise<StoredIncident> {
  const now = new Date().toISOString();
  return db.transaction(async (tx) => {
    const before = await lockIncident(tx, id);
    if (before.acknowledgedAt) return before;
    const { rows } = await tx.query<IncidentRow>(
      'UPDATE incidents SET acknowledged_at = $1, acknowledged_by = $2 WHERE id = $3 RETURNING *',
      [now, actor, before.id],
    );
    const after = fromRow(rows[0]!);
    await addEntry(tx, after.id, { at: now, kind: 'acknowledged', actor, text: `${actor} acknowledged` });
    await audit(tx, actor, 'acknowledged', after, `${actor} acknowledged`);
    return after;
  });
}

/** An entry written by the service itself (a notification sent, an alert recorded), audited too. */
export async function recordEntry(
  db: Database,
  id: string,
  entry: {
    readonly kind: EntryKind;
    readonly actor: string;
    readonly text: string;
    readonly data?: Record<string, unknown>;
  },
): Promise<void> {
  await db.transaction(async (tx) => {
    const incident = await lockIncident(tx, id);
    await addEntry(tx, incident.id, { ...entry, at: new Date().toISOString() });
    await audit(tx, entry.actor, entry.kind, incident, entry.text, entry.data ?? {});
  });
}

/** The same characters, every one of them, for stripping. */
const CONTROL_CHARACTERS_ALL = new RegExp(CONTROL.source, 'g');

export {
  CONTROL_CHARACTERS_ALL,
  addEntry as addIncidentEntry,
  audit as auditIncident,
  fromRow as incidentFromRow,
  lockIncident,
  OPEN_SQL,
  type IncidentRow,
};

export async function getIncident(db: Queryable, id: string): Promise<StoredIncident> {
  const { rows } = await db.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [normaliseId(id)]);
  if (!rows[0]) throw notFound(id);
  return fromRow(rows[0]);
}

/** Newest first. `open`: investigating, identified or monitoring. */
export async function listIncidents(
  db: Queryable,
  filter: {
    readonly open?: boolean;
    readonly unreviewed?: boolean;
    readonly limit?: number;
    readonly since?: string;
  } = {},
): Promise<StoredIncident[]> {
  const where = [filter.open ? OPEN_SQL : filter.unreviewed ? "status <> 'reviewed'" : 'true'];
  const values: unknown[] = [];
  if (filter.since) {
    values.push(filter.since);
    where.push(`(resolved_at IS NULL OR resolved_at >= $${values.length})`);
  }
  values.push(filter.limit ?? 500);
  const { rows } = await db.query<IncidentRow>(
    `SELECT * FROM incidents WHERE ${where.join(' AND ')} ORDER BY declared_at DESC, id DESC LIMIT $${values.length}`,
    values,
  );
  return rows.map(fromRow);
}

/** Oldest first. */
export async function incidentEntries(db: Queryable, id: string): Promise<IncidentEntry[]> {
  const { rows } = await db.query<{
    at: string;
    kind: EntryKind;
    actor: string;
    text: string;
    data: Record<string, unknown>;
  }>('SELECT at, kind, actor, text, data FROM incident_entries WHERE incident_id = $1 ORDER BY at, id', [
    normaliseId(id),
  ]);
  return rows;
}

export interface Overdue {
  /** An open P1 or P2 without an update within its interval. */
  readonly update: boolean;
  /** Nobody has acknowledged it within the response time of its priority. */
  readonly acknowledgement: boolean;
  /** Resolved, not reviewed, past the review deadline. */
  readonly review: boolean;
}

/** A priority's response and update times: GDS Way's by default, or the escalation policy's. */
export interface PriorityTiming {
  readonly respondWithinMinutes: number;
  readonly updateEveryMinutes: number | null;
}

/** What is late about an incident now, by the response and update times of its priority. */
export function overdue(
  incident: Incident,
  now: Date = new Date(),
  timing: PriorityTiming = PRIORITY_DEFINITIONS[incident.priority],
): Overdue {
  const open = OPEN_STATUSES.includes(incident.status);
  const minutesSince = (instant: string) => (now.getTime() - Date.parse(instant)) / 60_000;
  return {
    update:
      open && timing.updateEveryMinutes !== null && minutesSince(incident.lastUpdateAt) > timing.updateEveryMinutes,
    acknowledgement:
      open && !incident.acknowledgedAt && minutesSince(incident.declaredAt) > timing.respondWithinMinutes,
    review:
      incident.status === 'resolved' &&
      incident.reviewDueAt !== null &&
      now.getTime() > Date.parse(incident.reviewDueAt),
  };
}
