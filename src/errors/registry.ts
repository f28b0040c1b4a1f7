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
    status: 400,
    title: 'The input is not valid',
    action: 'Correct every field listed and send it again.',
  },
  ENTITLE_BENEFIT_UNKNOWN: {
    status: 400,
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
  ENTITLE_REQUEST_INVALID: {
    status: 400,
    title: 'The request is not valid',
    action:
      'Correct each field listed and send the request again: JSON with Content-Type: application/json, ids as the API gives them.',
  },
  ENTITLE_BODY_TOO_LARGE: {
    status: 413,
    title: 'The request body is too large',
    action: 'Send one assessment per request; an assessment is a few kilobytes.',
  },
  ENTITLE_HEADERS_TOO_LARGE: {
    status: 431,
    title: 'The request line and headers are too large',
    action:
      'Send the request with a shorter address and fewer or shorter headers: together they must stay under 16 KiB. Open a new connection to send it.',
  },
  ENTITLE_REQUEST_TIMEOUT: {
    status: 408,
    title: 'The request did not arrive in time',
    action:
      'Send the whole request within 10 seconds (its headers within 5), on a new connection. Behind a proxy, let the proxy buffer the body.',
  },
  ENTITLE_NOT_HTTP: {
    status: 400,
    title: 'The request is not valid HTTP',
    action: 'Send a well-formed HTTP/1.1 request on a new connection; a client library does this for you.',
  },
  ENTITLE_UNAUTHENTICATED: {
    status: 401,
    title: 'An API key is needed',
    action: 'Send your key as "Authorization: Bearer KEY". An operator can create one with "entitle keys create".',
  },
  ENTITLE_FORBIDDEN: {
    status: 403,
    title: 'This key may not do that',
    action: 'Use a key with one of the roles the message lists, or ask an operator to create one.',
  },
  ENTITLE_NOT_FOUND: {
    status: 404,
    title: 'Not found',
    action: 'Check the address, or the decision id returned when the assessment was made.',
  },
  ENTITLE_DECISION_PURGED: {
    status: 410,
    title: 'The inputs of this decision were removed under the retention policy',
    action: 'The decision and its hash remain, but it cannot be replayed without its inputs.',
  },
  ENTITLE_RATE_LIMITED: {
    status: 429,
    title: 'Too many requests for this key',
    action: 'Wait for the time in the Retry-After header, then send the request again.',
  },
  ENTITLE_STORE_UNAVAILABLE: {
    status: 503,
    title: 'The decision could not be recorded, so it was not made',
    action: 'Nothing was decided or stored. Send the same request again after the time in the Retry-After header.',
  },
  ENTITLE_DATABASE_UNAVAILABLE: {
    status: 503,
    title: 'The database did not answer in time',
    action:
      'Wait for the time in the Retry-After header, then send the request again. A change you asked for may have been made before the answer was lost: check it before you make it again.',
  },
  ENTITLE_DECISION_IN_DOUBT: {
    status: 503,
    title: 'The decision may or may not have been recorded',
    action:
      'The database stopped answering while the decision was being recorded. After the time in the Retry-After header, send the request again with the same Idempotency-Key: you get the decision if it was recorded, and a new one if it was not. Sent again without one, it may record a second decision; the first, if it was recorded, is then listed by GET /v1/decisions/unacknowledged with the id given here.',
  },
  ENTITLE_SHUTTING_DOWN: {
    status: 503,
    title: 'This instance is shutting down',
    action: 'Send the request again; the load balancer routes it to another instance.',
  },
  ENTITLE_DATA_DIR_IN_USE: {
    status: 503,
    title: 'The embedded database is in use by another process',
    action: 'Stop the other process (often a running "entitle serve"), or set DATABASE_URL to use PostgreSQL.',
  },
  ENTITLE_EXPECTATIONS_INVALID: {
    status: 400,
    title: 'The expected changes of a release are not valid',
    action: 'Fix every problem listed (each names its line and column). docs/releasing-rules.md shows the format.',
  },
  ENTITLE_SOURCE_UNREACHABLE: {
    status: 503,
    title: 'A service this command reads could not be reached',
    action: 'Check the address given (PROMETHEUS_URL or ENTITLE_URL) and that the service is running there.',
  },
  ENTITLE_CANDIDATE_INVALID: {
    status: 400,
    title: 'The candidate rule set sent is not valid',
    action:
      'Fix every problem listed (each names its file, line and column in the files sent) and send the release again.',
  },
  ENTITLE_INCIDENT_NOT_FOUND: {
    status: 404,
    title: 'No such incident',
    action: 'Check the incident id, such as INC-7: "entitle incident list --all" shows every incident.',
  },
  ENTITLE_INCIDENT_TRANSITION_INVALID: {
    status: 409,
    title: 'The incident cannot move to that status from where it is',
    action:
      'Run "entitle incident show ID" to see its status; an incident goes investigating, identified, monitoring, resolved, then reviewed.',
  },
  ENTITLE_ESCALATION_POLICY_INVALID: {
    status: 500,
    title: 'The escalation policy is not valid',
    action:
      'Fix every problem listed (each names its line, column and setting) in the policy file; docs/notifications.md describes each setting.',
  },
  ENTITLE_NOTIFICATION_FAILED: {
    status: 502,
    title: 'A notification channel did not take the message',
    action:
      'Check the setting named and that the chat or mail service is up; "entitle notify test CHANNEL" sends a test message.',
  },
  ENTITLE_RELEASE_NOT_FOUND: {
    status: 404,
    title: 'No such release',
    action: 'Check the release id: "entitle release list" shows every release.',
  },
  ENTITLE_RELEASE_TRANSITION_INVALID: {
    status: 409,
    title: 'The release cannot move to that state from where it is',
    action: 'Run "entitle release status RELEASE" to see its state and the steps open to it.',
  },
  ENTITLE_RELEASE_APPROVAL_REQUIRED: {
    status: 403,
    title: 'The release needs an approval it does not have',
    action:
      'Ask someone other than the author to approve it with "entitle release approve"; the message says which approval is missing.',
  },
  ENTITLE_RELEASE_GATE_CLOSED: {
    status: 409,
    title: 'The release has not passed its gates',
    action: 'Keep it in shadow or canary until the watcher reports "pass": the message gives the evidence so far.',
  },
  ENTITLE_FREEZE_WINDOW: {
    status: 409,
    title: 'Changes are frozen now',
    action:
      'Wait until the freeze window ends, or, in an emergency, get two people to approve an override with a reason.',
  },
  ENTITLE_INTERNAL: {
    status: 500,
    title: 'Something went wrong in Entitle',
    action: 'Nothing was decided. Report the request id from the response to the service team.',
  },
  ENTITLE_OVERLOADED: {
    status: 503,
    title: 'The service is at capacity',
    action:
      'Send the same request again after the time in the Retry-After header, with the same Idempotency-Key: it is answered at once and nothing was recorded for it.',
  },
  ENTITLE_DEGRADED: {
    status: 503,
    title: 'This function is paused to keep assessments running',
    action:
      'Citizen assessments are served first while demand is high, or an operator has switched this off. Try again after the time in the Retry-After header; "entitle flags list" shows why.',
  },
  ENTITLE_IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    title: 'The Idempotency-Key was used for a different request',
    action:
      'Send a new Idempotency-Key for a new application or changed answers; reuse a key only to retry exactly the same request.',
  },
  ENTITLE_FLAG_NOT_FOUND: {
    status: 404,
    title: 'There is no such feature flag',
    action: 'Check the flag key; "entitle flags list" shows every flag.',
  },
  ENTITLE_FLAG_CHANGE_NOT_FOUND: {
    status: 404,
    title: 'There is no such flag change',
    action: 'Check the change id (such as FC-3); "entitle flags pending" lists the changes waiting for approval.',
  },
  ENTITLE_KEY_HOLDER_REFUSED: {
    status: 409,
    title: 'The key cannot be given that holder now',
    action:
      'A key keeps the holder it has: revoke it and make the other person their own. A key whose name still authors an open release or asks for a pending flag change is given its holder once that work is decided.',
  },
  ENTITLE_BUSY: {
    status: 409,
    title: 'The same work is already running on this instance',
    action:
      'It runs one at a time so citizens keep a core: wait for the run under way to finish (its progress shows on the command that started it), then ask again.',
  },
  ENTITLE_DEPLOY_APPROVAL_REQUIRED: {
    status: 403,
    title: 'The deploy needs the approval of other people',
    action:
      'A production deploy, and an emergency override of a freeze, each need two approvers other than the one deploying: ask them to run "entitle deploy approve" with the environment, version and whole commit.',
  },
  ENTITLE_FLAG_APPROVAL_REQUIRED: {
    status: 403,
    title: 'The flag change needs a second person',
    action:
      'In production a flag change takes effect only when someone other than the person who asked approves it: ask them to run "entitle flags approve" with the change id.',
  },
  ENTITLE_FLAG_CHANGE_PENDING: {
    status: 409,
    title: 'Another change to this flag is waiting for approval',
    action: 'Approve or reject the pending change first ("entitle flags pending" lists it), then ask for this one.',
  },
  ENTITLE_RECORD_INTEGRITY: {
    status: 500,
    title: 'The stored record failed its integrity check',
    action:
      'This decision is not served because what the database holds no longer matches the verifiable log. Do not rely on any copy read from the database; the service team is paged and follows the "record integrity" runbook.',
  },
  ENTITLE_RECEIPT_PENDING: {
    status: 503,
    title: 'The decision is recorded but not yet placed in the log',
    action: 'Its receipt is ready within a few seconds: ask again after the time in the Retry-After header.',
  },
  ENTITLE_LOG_EMPTY: {
    status: 503,
    title: 'The log has no checkpoint yet',
    action:
      'The first checkpoint is signed a second or so after the first record: ask again after the time in the Retry-After header.',
  },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof errorRegistry;
