/**
 * Safe policy releases: a candidate rule-set version is validated, compared with the active one in
 * shadow, decides a growing canary, is approved by a second person and promoted, and is rolled back
 * on its own when it differs unexpectedly. This is the module's public surface.
 */
export { Comparator, evaluateSafely, type Comparison, type ComparisonKind, type Difference, type Evaluation } from './compare.ts';
export { NO_CHANGES, parseExpectations, readExpectations, type ExpectedChange, type Expectations } from './expectations.ts';
export { compared, DEFAULT_GATES, EMPTY_STATS, gateSettingsFrom, judge, type GateReport, type GateSettings, type ReleaseStats, type Verdict } from './gates.ts';
export { DEFAULT_LIVE_SETTINGS, LiveReleases, type AutomaticRollback, type LiveLog, type LiveSettings } from './live.ts';
export { BUCKETS, canaryBucket, fixedRouter, type Route, type RuleRouter } from './routing.ts';
export { checkTransition, percentText, TRANSITIONS, UNDER_TEST, type Approval, type Release, type ReleaseState } from './model.ts';
export {
  activeVersions,
  addStats,
  approveRelease,
  createRelease,
  getRelease,
  listReleases,
  promoteRelease,
  purgeSampleInputs,
  readStats,
  releaseSamples,
  rejectRelease,
  resolveActiveRuleSets,
  releasesUnderTest,
  RELEASE_CHANNEL,
  rollbackIfFailing,
  rollbackRelease,
  SERVICE_ACTOR,
  runScheduledPromotions,
  seedActiveVersions,
  setCanary,
  startShadow,
  type ActiveVersion,
  type NewRelease,
  type PromotionResult,
  type SampleSummary,
} from './repository.ts';
export { affectedApplications, worklistCsv, type Worklist, type WorklistEntry } from './remediation.ts';
export { candidateFromDir, withRuleSetFiles } from './candidate.ts';
