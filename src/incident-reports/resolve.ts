import {
  getIncident,
  incidentEntries,
  updateIncident,
  type Incident,
  type IncidentChange,
  type StoredIncident,
} from '../incidents/index.ts';
import type { Database } from '../store/index.ts';
import { fillTemplate } from './comms.ts';
import { incidentImpact } from './impact.ts';

/**
 * Resolves an incident and, in the same step, puts the resolution notice on the status page (the
 * `resolution` template filled from the impact, unless a message is given): citizens must never
 * read "we're working to fix this" under problems already fixed. Incidents citizens could not
 * see (P3, P4 with no message) get none.
 */
export async function resolveIncident(db: Database, id: string, change: IncidentChange): Promise<StoredIncident> {
  const before = await getIncident(db, id);
  let citizenMessage = change.citizenMessage;
  if (citizenMessage === undefined && (before.citizenMessage || before.priority === 'P1' || before.priority === 'P2')) {
    const now = new Date();
    const resolved: Incident = { ...before, status: 'resolved', resolvedAt: now.toISOString() };
    const impact = await incidentImpact(db, resolved, change.actor, now);
    citizenMessage = fillTemplate(
      'resolution',
      resolved,
      await incidentEntries(db, before.id),
      impact,
      now,
    ).text.trim();
  }
  return updateIncident(db, before.id, {
    ...change,
    status: 'resolved',
    ...(citizenMessage !== undefined ? { citizenMessage } : {}),
  });
}
