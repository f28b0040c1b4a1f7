/**
 * Incidents, as GDS Way runs them: a priority centred on citizens (P1 to P4), a lead and a
 * communications lead, a status that follows the process (TRANSITIONS), and a timeline of typed
 * entries. Everything here is plain data; the repository stores it and audits each change.
 */

export const PRIORITIES = ['P1', 'P2', 'P3', 'P4'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const STATUSES = ['investigating', 'identified', 'monitoring', 'resolved', 'reviewed'] as const;
export type IncidentStatus = (typeof STATUSES)[number];

/**
 * Where each status may go. Work may step back while the incident is open (a fix that did not
 * hold sends it back to investigating); resolved only goes on to reviewed, and reviewed is the
 * end: a recurrence is a new incident, which keeps each review about one event.
 */
export const TRANSITIONS: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = {
  investigating: ['identified', 'monitoring', 'resolved'],
  identified: ['investigating', 'monitoring', 'resolved'],
  monitoring: ['investigating', 'identified', 'resolved'],
  resolved: ['reviewed'],
  reviewed: [],
};

export const OPEN_STATUSES: readonly IncidentStatus[] = ['investigating', 'identified', 'monitoring'];

export const INCIDENT_ROLES = [
  'incident-lead',
  'communications-lead',
  'responder',
  'scribe',
  'subject-expert',
] as const;
export type IncidentRole = (typeof INCIDENT_ROLES)[number];

/** What citizens and responders are promised for each priority (../shared/brief/OPERATIONS.md). */
export const PRIORITY_DEFINITIONS: Readonly<
  Record<
    Priority,
    { readonly meaning: string; readonly respondWithinMinutes: number; readonly updateEveryMinutes: number | null }
  >
> = {
  P1: {
    meaning:
      'citizens cannot complete the primary journey (no assessment can be made), wrong decisions are being issued, or personal data is exposed',
    respondWithinMinutes: 20,
    updateEveryMinutes: 60,
  },
  P2: {
    meaning: 'citizens see degraded service: slow, partial failures, or a benefit unavailable',
    respondWithinMinutes: 60,
    updateEveryMinutes: 120,
  },
  P3: {
    meaning: 'internal systems affected; the citizen-facing service is working',
    respondWithinMinutes: 120,
    updateEveryMinutes: null,
  },
  P4: { meaning: 'cosmetic or minor, no citizen impact', respondWithinMinutes: 24 * 60, updateEveryMinutes: null },
};

export type IncidentSource = 'manual' | 'alertmanager' | 'release-rollback';

export interface RoleAssignment {
  readonly role: IncidentRole;
  readonly person: string;
  readonly assignedAt: string;
}

export interface Incident {
  /** Short and typeable at 3am: INC-7. */
  readonly id: string;
  readonly title: string;
  readonly priority: Priority;
  readonly status: IncidentStatus;
  /** What the public status page says; plain English, set by the communications lead. */
  readonly citizenMessage: string | null;
  /** Benefits affected (empty: all of them). */
  readonly benefits: readonly string[];
  /** Citizen journeys affected, by SLO id (empty: every journey, for P1 and P2). */
  readonly journeys: readonly string[];
  readonly roles: readonly RoleAssignment[];
  readonly source: IncidentSource;
  /** Releases involved (a rolled-back release, say): their decisions are part of the impact. */
  readonly releaseIds: readonly string[];
  /** The runbook followed, as a path or address. */
  readonly runbook: string | null;
  /** When citizens were first affected, as far as is known: the impact window opens here. */
  readonly startedAt: string;
  readonly declaredAt: string;
  readonly declaredBy: string;
  readonly acknowledgedAt: string | null;
  readonly acknowledgedBy: string | null;
  /** The last update to the people following it (declaration counts as the first). */
  readonly lastUpdateAt: string;
  readonly resolvedAt: string | null;
  readonly reviewedAt: string | null;
  /** Five working days after resolution. */
  readonly reviewDueAt: string | null;
}

export const ENTRY_KINDS = [
  'declared',
  'update',
  'status',
  'priority',
  'assigned',
  'acknowledged',
  'citizen-message',
  'alert-firing',
  'alert-resolved',
  'release-rollback',
  'notification',
  'reminder',
  'escalation',
  'review',
] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

/** One line of an incident's own record. */
export interface IncidentEntry {
  readonly at: string;
  readonly kind: EntryKind;
  readonly actor: string;
  readonly text: string;
  readonly data: Readonly<Record<string, unknown>>;
}
