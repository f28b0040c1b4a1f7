/**
 * What an incident did and what is said about it, from the records: the citizen impact (failed
 * assessments, decisions by the releases involved, whom to recontact), the timeline, the
 * communications filled from the versioned templates in communications/, the post-incident
 * review, and resolving an incident with its impact and resolution message.
 */
export {
  assessmentsByMinute,
  impactWindow,
  incidentImpact,
  type Impact,
  type Recontact,
  type ReleaseImpact,
  type Window,
} from './impact.ts';
export { buildTimeline, timelineMarkdown, type Timeline, type TimelineItem, type TimelineSource } from './timeline.ts';
export { AUDIENCES, benefitsText, fillTemplate, templateVersion, type Audience, type FilledMessage } from './comms.ts';
export { impactMarkdown, reviewMarkdown } from './review.ts';
export { resolveIncident } from './resolve.ts';
