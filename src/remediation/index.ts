/**
 * The remediation worklist: after a rollback, every decision the rolled-back release made,
 * re-evaluated with the version it returned to, and those whose outcome changes, with by how much
 * and what to do (pay arrears, review an overpayment, review entitlement, reassess by hand).
 */
export { affectedApplications, worklistCsv, type Worklist, type WorklistEntry } from './worklist.ts';
