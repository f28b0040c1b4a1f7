/**
 * The one registry of Entitle's error codes. Each code is stable and never reused: callers,
 * runbooks and dashboards key on it. `docs/errors.md` is generated from this table and a test
 * fails when the two drift apart.
 */
export interface ErrorDefinition {
  /** HTTP status used when the error reaches the API. */
  readonly status: number;
  /** Short title, the same for every occurrence (RFC 9457 `title`). */
  readonly title: string;
  /** What the caller can do about it, in plain English. */
  readonly action: string;
}

export const errorRegistry = {
  ENTITLE_INPUT_INVALID: {
    status: 422,
    title: 'The assessment input is not valid',
    action: 'Correct every field listed and send the assessment again.',
  },
  ENTITLE_BENEFIT_UNKNOWN: {
    status: 422,
    title: 'No rule set is loaded for this benefit',
    action: 'Use one of the benefits listed in the message, for example "universal-credit".',
  },
  ENTITLE_PARAMETER_UNCONFIRMED: {
    status: 422,
    title: 'A rate this assessment needs has not been confirmed',
    action:
      'The rule set marks this rate as not yet confirmed, so no decision can be made. Ask the policy team to confirm it and release the rule set; do not estimate the award.',
  },
  ENTITLE_PARAMETER_NO_VALUE: {
    status: 422,
    title: 'The rule set has no rate for the assessment date',
    action: 'Check the assessment date. The message says from which date the rule set has rates.',
  },
  ENTITLE_RULESET_INVALID: {
    status: 500,
    title: 'The rule set is not valid',
    action: 'Fix every problem listed (each names its file, line and column) and compile again.',
  },
  ENTITLE_RULESET_NOT_FOUND: {
    status: 500,
    title: 'The rule set could not be found',
    action: 'Check the directory given: it must hold ruleset.yaml and parameters.yaml.',
  },
  ENTITLE_EVALUATION_FAILED: {
    status: 500,
    title: 'The rules could not be evaluated',
    action: 'This is a fault in the rule set or the engine, not in the input. Report it with the rule-set hash.',
  },
  ENTITLE_GOLDEN_TEST_INVALID: {
    status: 500,
    title: 'A golden test file is not valid',
    action: 'Fix every problem listed (each names its file, line and column).',
  },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof errorRegistry;
