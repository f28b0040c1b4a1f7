import { auditEventsSince, type AuditEvent } from '../audit/index.ts';
import { listIncidents, type Incident } from '../incidents/index.ts';
import type { Queryable } from '../store/index.ts';

/**
 * What `entitle status` and the weekly report read besides metrics: the audited changes (releases,
 * deploys, rule sets) and the incidents. From the service's API with the person's key
 * (GET /v1/audit-events, GET /v1/incidents), so they work beside a running service on the
 * embedded database; or from the database itself (tests, and PostgreSQL with no service up).
 */
export interface OperationsHistory {
  auditEventsSince(since: string): Promise<readonly AuditEvent[]>;
  /** Incidents, newest first: all of them, or those not yet reviewed. */
  incidents(options: { readonly unreviewed?: boolean }): Promise<readonly Incident[]>;
}

export function historyFromDatabase(db: Queryable): OperationsHistory {
  return {
    auditEventsSince: (since) => auditEventsSince(db, since),
    incidents: ({ unreviewed }) => listIncidents(db, { unreviewed: unreviewed === true, limit: 10_000 }),
  };
}
