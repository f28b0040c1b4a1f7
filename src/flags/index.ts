/**
 * Feature flags: declared in code, held in the database, changed only by audited steps (a second
 * person's approval in production), read through OpenFeature, and followed by every instance
 * within a second. The kill switches are also the steps of automatic degradation (src/capacity).
 */
export { DatabaseFlagProvider, DEFAULT_FLAG_SETTINGS, LiveFlags, type FlagLog, type FlagSettings } from './live.ts';
export {
  DECLARED_FLAGS,
  evaluateFlag,
  FLAG_KINDS,
  isStale,
  percentOf,
  rolloutBucket,
  stateOf,
  type DeclaredFlag,
  type Flag,
  type FlagChange,
  type FlagKind,
  type FlagState,
} from './model.ts';
export {
  approveFlagChange,
  FLAG_CHANNEL,
  flagHistory,
  getChange,
  getFlag,
  listFlags,
  pendingFlagChanges,
  recordedEnvironment,
  recordEnvironment,
  rejectFlagChange,
  requestFlagChange,
  seedFlags,
  staleFlags,
  type ChangeRequest,
  type ChangeResult,
} from './repository.ts';
