import { draftOf, type DecisionDraft } from '../decisions/index.ts';
import type { RuleSet } from '../rules/index.ts';

/** The decision a rule set makes for `input`, as the service would hand it to the writer. */
export function decisionDraft(ruleSet: RuleSet, input: unknown): DecisionDraft {
  return draftOf(ruleSet.assess(input), input);
}
