-- Decisions recorded whose caller never had the answer: the connection closed before it was
-- sent (client_gone), or the service answered 503 while the commit was in doubt and it then
-- committed (deadline). A caller that retried without an Idempotency-Key made a second decision;
-- this is how the first is found (GET /v1/decisions/unacknowledged). Expand only: the previous
-- release never reads it. Not part of the hashed record: a decision stays exactly as recorded.
-- No foreign key to decisions: adding one would lock that large table while assessments write
-- to it, and the listing joins the two anyway.

CREATE TABLE unacknowledged_decisions (
  decision_id uuid PRIMARY KEY,
  reason      text NOT NULL CHECK (reason IN ('client_gone', 'deadline')),
  noted_at    text NOT NULL
);

CREATE INDEX unacknowledged_decisions_noted_at ON unacknowledged_decisions (noted_at);
