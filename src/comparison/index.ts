/**
 * Comparing two rule sets on one application: the declaration of the changes a release is expected
 * to make, and the comparator that classifies each differing variable (declared, follows from
 * another difference, out of bounds, undeclared). Shadow evaluation (src/live), backtests
 * (src/backtest) and the remediation worklist (src/remediation) all compare this way; it needs
 * only the rules engine, so a backtest worker thread loads nothing else.
 */
export {
  awardPence,
  Comparator,
  evaluateSafely,
  type Comparison,
  type ComparisonKind,
  type Difference,
  type Evaluation,
} from './compare.ts';
export {
  NO_CHANGES,
  parseExpectations,
  readExpectations,
  type ExpectedChange,
  type Expectations,
} from './expectations.ts';
