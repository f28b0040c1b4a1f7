/**
 * Incident response: declare (by people, Alertmanager or an automatic rollback), coordinate,
 * update, acknowledge, and tell people when it is due. Incidents live in the database, every
 * change in the audit chain. What an incident did and what is said about it (impact, timeline,
 * communications, review, resolution) is in src/incident-reports.
 */
export * from './model.ts';
export {
  acknowledgeIncident,
  assignRole,
  declareIncident,
  getIncident,
  incidentEntries,
  listIncidents,
  normaliseId,
  overdue,
  parsePriority,
  recordEntry,
  REVIEW_WITHIN_WORKING_DAYS,
  roleName,
  updateIncident,
  type Declaration,
  type IncidentChange,
  type Overdue,
  type PriorityTiming,
  type StoredIncident,
} from './repository.ts';
export {
  ALERTMANAGER_ACTOR,
  receiveAlertGroup,
  type AlertGroup,
  type AlertGroupResult,
  type WebhookAlert,
} from './alerts.ts';
export { openRollbackIncident, SERVICE_ACTOR } from './rollbacks.ts';
export { failureMetrics, FailureRecorder, purgeFailures, type AssessmentFailure } from './failures.ts';
export { priorityTimings } from './timings.ts';
export { IncidentWatch, type IncidentNotifier, type WatchLog } from './watch.ts';
