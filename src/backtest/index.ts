/**
 * Backtest: a candidate rule set re-evaluated on stored decisions, before it decides anything,
 * compared with the version that made each one, and reported in counts and sums of pence.
 * `backtestRelease` records the summary on the release as evidence, in the audit chain.
 */
export { backtest, backtestRelease } from './backtest.ts';
export { backtestWindow, type BacktestOptions, type BacktestWindow } from './options.ts';
export { decisionBatches, decisionRange, type DecisionRow } from './paging.ts';
export { type BacktestExample, type BacktestReport, type BacktestResult, type ChangeBand } from './report.ts';
