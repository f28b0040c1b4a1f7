/**
 * Safe policy releases: a candidate rule-set version is validated, compared with the active one in
 * shadow, decides a growing canary, is approved by a second person and promoted, and is rolled back
 * on its own when it differs unexpectedly. This is the module's public surface.
 */
export { Comparator, type Comparison, type ComparisonKind, type Difference } from './compare.ts';
export { NO_CHANGES, parseExpectations, readExpectations, type ExpectedChange, type Expectations } from './expectations.ts';
export { compared, DEFAULT_GATES, EMPTY_STATS, gateSettingsFrom, judge, type GateReport, type GateSettings, type ReleaseStats, type Verdict } from './gates.ts';
export { formatLondon, londonToInstant } from './london-time.ts';
export { checkTransition, percentText, TRANSITIONS, UNDER_TEST, type Approval, type Release, type ReleaseState } from './model.ts';
export {
  activeVersions,
  addFreezeWindow,
  approveRelease,
  createRelease,
  freezeWindows,
  getRelease,
  listReleases,
  promoteRelease,
  readStats,
  rejectRelease,
  resolveActiveRuleSets,
  releasesUnderTest,
  RELEASE_CHANNEL,
  rollbackRelease,
  runScheduledPromotions,
  seedActiveVersions,
  setCanary,
  startShadow,
  type ActiveVersion,
  type FreezeWindow,
  type NewRelease,
  type PromotionResult,
} from './repository.ts';
