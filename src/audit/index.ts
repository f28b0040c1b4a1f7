/** The operational audit log: every release step (and other operator action), hash-chained. */
export {
  appendAuditEvent,
  auditEventsFor,
  changeMark,
  auditEventsSince,
  verifyAuditChain,
  verifyAuditLog,
  type AuditEvent,
  type AuditEventDraft,
  type AuditReport,
} from './log.ts';
export { verifyControls, type ControlsReport } from './controls.ts';
