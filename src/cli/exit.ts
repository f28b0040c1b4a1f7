import { EntitleError, formatProblem, type ErrorCode } from '../errors/index.ts';

/** Exit statuses of the `entitle` command; documented in docs/cli.md. */
export const EXIT = {
  ok: 0,
  /** Something failed that is not the caller's input: a bug, golden tests that failed, or a backtest that found unexpected differences. */
  failed: 1,
  /** The input or the command line is wrong; the message says which field and what to do. */
  invalidInput: 2,
  /** The input is valid but no decision can be made: a rate is unconfirmed or missing. */
  cannotAssess: 3,
  /** A rule set or golden test file is not valid; every problem is listed with file:line:column. */
  invalidRules: 4,
  /** The database cannot be used (another process holds the embedded one, or it cannot be reached), or Prometheus or the service cannot be reached. */
  unavailable: 5,
  /** A release, incident or flag step was refused: not open from its state, not approved, gates not passed, or frozen; or a flag change waits for a second person. */
  refused: 6,
} as const;

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  ENTITLE_INPUT_INVALID: EXIT.invalidInput,
  ENTITLE_BENEFIT_UNKNOWN: EXIT.invalidInput,
  ENTITLE_PARAMETER_UNCONFIRMED: EXIT.cannotAssess,
  ENTITLE_PARAMETER_NO_VALUE: EXIT.cannotAssess,
  ENTITLE_RULESET_INVALID: EXIT.invalidRules,
  ENTITLE_RULESET_NOT_FOUND: EXIT.invalidRules,
  ENTITLE_GOLDEN_TEST_INVALID: EXIT.invalidRules,
  ENTITLE_CANDIDATE_INVALID: EXIT.invalidRules,
  ENTITLE_DATA_DIR_IN_USE: EXIT.unavailable,
  ENTITLE_STORE_UNAVAILABLE: EXIT.unavailable,
  ENTITLE_SOURCE_UNREACHABLE: EXIT.unavailable,
  ENTITLE_EXPECTATIONS_INVALID: EXIT.invalidInput,
  ENTITLE_RELEASE_NOT_FOUND: EXIT.invalidInput,
  ENTITLE_RELEASE_TRANSITION_INVALID: EXIT.refused,
  ENTITLE_RELEASE_APPROVAL_REQUIRED: EXIT.refused,
  ENTITLE_RELEASE_GATE_CLOSED: EXIT.refused,
  ENTITLE_FREEZE_WINDOW: EXIT.refused,
  ENTITLE_DEPLOY_APPROVAL_REQUIRED: EXIT.refused,
  ENTITLE_KEY_HOLDER_REFUSED: EXIT.refused,
  ENTITLE_BUSY: EXIT.unavailable,
  ENTITLE_REQUEST_INVALID: EXIT.invalidInput,
  ENTITLE_INCIDENT_NOT_FOUND: EXIT.invalidInput,
  ENTITLE_INCIDENT_TRANSITION_INVALID: EXIT.refused,
  ENTITLE_ESCALATION_POLICY_INVALID: EXIT.invalidInput,
  ENTITLE_FLAG_NOT_FOUND: EXIT.invalidInput,
  ENTITLE_FLAG_CHANGE_NOT_FOUND: EXIT.invalidInput,
  ENTITLE_FLAG_APPROVAL_REQUIRED: EXIT.refused,
  ENTITLE_FLAG_CHANGE_PENDING: EXIT.refused,
  // Answers of the service, for the commands that go through its API.
  ENTITLE_UNAUTHENTICATED: EXIT.invalidInput,
  ENTITLE_NOT_FOUND: EXIT.invalidInput,
  ENTITLE_FORBIDDEN: EXIT.refused,
  ENTITLE_RATE_LIMITED: EXIT.unavailable,
  ENTITLE_DATABASE_UNAVAILABLE: EXIT.unavailable,
  ENTITLE_SHUTTING_DOWN: EXIT.unavailable,
  ENTITLE_OVERLOADED: EXIT.unavailable,
  ENTITLE_DEGRADED: EXIT.unavailable,
  ENTITLE_REQUEST_TIMEOUT: EXIT.unavailable,
  ENTITLE_BODY_TOO_LARGE: EXIT.invalidInput,
  ENTITLE_HEADERS_TOO_LARGE: EXIT.invalidInput,
  ENTITLE_NOT_HTTP: EXIT.invalidInput,
};

/**
 * Reports an error on stderr and returns the exit status. An EntitleError prints its code and every
 * problem; anything else is a fault, printed without a stack trace unless ENTITLE_DEBUG is set.
 */
export function reportError(error: unknown, write: (text: string) => void = (t) => process.stderr.write(t)): number {
  if (error instanceof EntitleError) {
    const lines = [`error ${error.code}: ${error.message}`, ...error.problems.map((p) => `  ${formatProblem(p)}`)];
    write(`${lines.join('\n')}\n`);
    return STATUS_BY_CODE[error.code] ?? EXIT.failed;
  }
  const detail = process.env.ENTITLE_DEBUG && error instanceof Error ? `\n${error.stack}` : '';
  write(`error: ${error instanceof Error ? error.message : String(error)}${detail}\n`);
  return EXIT.failed;
}
