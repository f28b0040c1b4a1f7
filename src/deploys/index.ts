/** Deploys: the audited record of every deploy and rollback, and freeze windows for them. */
export {
  approveDeploy,
  checkDeployWindow,
  deployApprovals,
  deployApprovalSchema,
  deployHistory,
  deployRecordSchema,
  EMERGENCY_APPROVAL_HOURS,
  HEIGHTENED_HOURS,
  recordDeploy,
  STRATEGIES,
  type Build,
  type DeployApproval,
  type DeployApprovalInput,
  type DeployRecord,
  type WindowCheck,
} from './deploys.ts';
export {
  deployWatchSchema,
  heightenedGauge,
  heightenedWindow,
  recordDeployWatch,
  WATCH_VERDICTS,
  type DeployWatch,
  type HeightenedWindow,
} from './heightened.ts';
export { buildInfo, PACKAGE_VERSION, type BuildInfo } from './build.ts';
export {
  checkStatements,
  preparable,
  readReleaseQueries,
  RELEASE_QUERIES_FILE,
  writeReleaseQueries,
  type Incompatibility,
  type ReleaseQueries,
} from './schema-compat.ts';
