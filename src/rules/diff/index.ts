export { diffBundles, formatDiff, type Change, type RuleSetDiff } from './diff.ts';
