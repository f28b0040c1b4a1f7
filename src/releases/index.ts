/**
 * Safe policy releases: a candidate rule-set version is validated, compared with the active one in
 * shadow, decides a growing canary, is approved by a second person and promoted, and is rolled back
 * on its own when it differs unexpectedly. This module holds the release state machine, its
 * repository and the evidence it is judged on; src/live serves and compares in each instance,
 * src/backtest replays stored decisions. This is the module's public surface.
 */
export {
  DEFAULT_GATES,
  gateSettingsFrom,
  judge,
  shadowWindowOf,
  type GateReport,
  type GateSettings,
  type ShadowWindow,
  type Verdict,
} from './gates.ts';
export {
  checkTransition,
  percentText,
  TRANSITIONS,
  UNDER_TEST,
  type Approval,
  type Release,
  type ReleaseState,
} from './model.ts';
export { activeVersions, resolveActiveRuleSets, seedActiveVersions, type ActiveVersion } from './active-versions.ts';
export {
  approveRelease,
  createRelease,
  getRelease,
  listReleases,
  rejectRelease,
  RELEASE_CHANNEL,
  releasesUnderTest,
  SERVICE_ACTOR,
  setCanary,
  startShadow,
  type NewRelease,
} from './repository.ts';
export {
  promoteRelease,
  rollbackIfFailing,
  rollbackRelease,
  runScheduledPromotions,
  type AutomaticRollback,
  type PromotionResult,
  type ScheduledOutcome,
} from './promotion.ts';
export {
  addStats,
  compared,
  COUNT_OF_KIND,
  EMPTY_STATS,
  purgeSampleInputs,
  readStats,
  releaseSamples,
  sumStats,
  type ReleaseStats,
  type Sample,
  type SampleSummary,
  type StatsDelta,
} from './stats.ts';
export { candidateFromDir, ruleSetFiles, unitsOf, withRuleSetFiles, type RuleSetUnits } from './candidate.ts';
