/** The operational audit log: every release step (and other operator action), hash-chained. */
export {
  appendAuditEvent,
  auditEventsFor,
  changeMark,
  auditEventsSince,
  verifyAuditChain,
  type AuditEvent,
  type AuditEventDraft,
  type AuditReport,
} from './log.ts';
