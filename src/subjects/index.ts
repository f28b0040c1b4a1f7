/**
 * Data subjects' rights over one application: access (export) and erasure, each recorded in the
 * audit chain. docs/data-protection.md lists what is held, where, for how long, and how it goes.
 */
export {
  applicationDigest,
  eraseSubject,
  exportSubject,
  type Requester,
  type SubjectErasure,
  type SubjectExport,
} from './subjects.ts';
