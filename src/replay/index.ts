/**
 * Replaying recorded decisions with the running engine: one decision (POST /v1/decisions/:id/replay),
 * or a stratified sample (entitle replay --sample N), which is how a new build is checked against
 * what the service has decided before it serves anyone.
 */
export { differences, replayRecord, type Replayed } from './compare.ts';
export { ReplayRuleSets } from './rule-sets.ts';
export {
  defaultReplaySince,
  replaySample,
  type ReplayMismatch,
  type ReplaySampleOptions,
  type ReplaySampleReport,
  type ReplayStratum,
} from './sample.ts';
export { ReplayWatch, type ReplayWatchHooks } from './watch.ts';
