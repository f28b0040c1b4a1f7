-- Feature flags, their changes (pending a second approval in production), the environment the
-- service runs in, and idempotency keys for assessments. Every flag change is also an event in the
-- audit chain. Expand only: the previous release reads none of these tables.

CREATE TABLE feature_flags (
  key                  text PRIMARY KEY,
  description          text NOT NULL,
  kind                 text NOT NULL CHECK (kind IN ('kill-switch', 'release', 'operational')),
  owner                text NOT NULL,
  expires_on           text NOT NULL,          -- YYYY-MM-DD: after it, "entitle flags stale" lists the flag
  enabled              boolean NOT NULL,
  rollout_basis_points integer NOT NULL CHECK (rollout_basis_points BETWEEN 0 AND 10000),
  created_at           text NOT NULL,
  updated_at           text NOT NULL,
  updated_by           text NOT NULL
);

CREATE SEQUENCE flag_change_numbers;

CREATE TABLE feature_flag_changes (
  id           text PRIMARY KEY,               -- FC-12: short enough to type at 3am
  flag_key     text NOT NULL REFERENCES feature_flags (key),
  status       text NOT NULL CHECK (status IN ('pending', 'applied', 'rejected')),
  before       jsonb NOT NULL,
  after        jsonb NOT NULL,
  reason       text NOT NULL,
  requested_by text NOT NULL,
  requested_at text NOT NULL,
  decided_by   text,
  decided_at   text
);
-- One change waits for approval per flag: a second request must wait, or replace it by rejection.
CREATE UNIQUE INDEX feature_flag_changes_one_pending ON feature_flag_changes (flag_key) WHERE status = 'pending';
CREATE INDEX feature_flag_changes_flag ON feature_flag_changes (flag_key, requested_at);

-- Settings of the deployment, recorded by the service from its configuration. "environment" is only
-- ever raised (development < staging < production), so no command can lower it to skip an approval.
CREATE TABLE service_settings (
  name       text PRIMARY KEY,
  value      text NOT NULL,
  updated_at text NOT NULL,
  updated_by text NOT NULL
);

-- Idempotency-Key of assessments: the key is stored only as a hash with the caller's API key id,
-- and the request as a digest; the decision id says which decision a retry gets back. Written in the
-- decision's own transaction, so a key names a decision exactly when that decision is recorded.
CREATE TABLE idempotency_keys (
  key_hash     text PRIMARY KEY,
  request_hash text NOT NULL,
  decision_id  uuid NOT NULL,
  created_at   text NOT NULL
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
