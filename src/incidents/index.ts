/**
 * Incident response: declare, coordinate, measure citizen impact from the records, communicate,
 * and review. Incidents live in the database, every change in the audit chain.
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
export { ALERTMANAGER_ACTOR, receiveAlertGroup, type AlertGroup, type AlertGroupResult, type WebhookAlert } from './alerts.ts';
export { openRollbackIncident, SERVICE_ACTOR } from './rollbacks.ts';
export { failureMetrics, FailureRecorder, type AssessmentFailure } from './failures.ts';
export { assessmentsByMinute, impactWindow, incidentImpact, type Impact, type Recontact, type ReleaseImpact, type Window } from './impact.ts';
export { buildTimeline, timelineMarkdown, type Timeline, type TimelineItem, type TimelineSource } from './timeline.ts';
export { AUDIENCES, benefitsText, fillTemplate, templateVersion, type Audience, type FilledMessage } from './comms.ts';
export { impactMarkdown, reviewMarkdown } from './review.ts';
export { resolveIncident } from './resolve.ts';
export { priorityTimings } from './timings.ts';
export { IncidentWatch, type IncidentNotifier, type WatchLog } from './watch.ts';
