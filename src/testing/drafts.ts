import { v7 as uuidv7 } from 'uuid';
import type { DecisionDraft } from '../decisions/index.ts';
import type { RuleSet } from '../rules/index.ts';

/** The decision a rule set makes for `input`, as the service would hand it to the writer. */
export function decisionDraft(ruleSet: RuleSet, input: unknown): DecisionDraft {
  const a = ruleSet.assess(input);
  return {
    id: uuidv7(),
    benefit: a.benefit,
    applicationId: a.applicationId,
    assessmentDate: a.assessmentDate,
    ruleset: a.ruleset,
    engineVersion: a.engine.version,
    inputs: input,
    outcome: a.outcome,
    explanation: a.explanation,
  };
}
