-- Safe policy releases: a candidate rule-set version moves from draft through shadow and canary
-- to active, with every step in a hash-chained audit log. Expand only: the previous release
-- reads none of these tables, and the new decision columns are nullable.

-- What each benefit is decided by now. Promotion and rollback change one row: a pointer switch.
CREATE TABLE active_rulesets (
  benefit       text PRIMARY KEY,
  ruleset_hash  text NOT NULL REFERENCES ruleset_versions (hash),
  release_id    uuid,                          -- null for the rule set the service first started with
  changed_at    text NOT NULL
);

CREATE TABLE releases (
  id                  uuid PRIMARY KEY,        -- UUIDv7
  benefit             text NOT NULL,
  ruleset_hash        text NOT NULL REFERENCES ruleset_versions (hash),
  ruleset_id          text NOT NULL,
  author              text NOT NULL,
  summary             text NOT NULL,
  effective_at        text NOT NULL,           -- ISO 8601 UTC instant; given and shown in Europe/London
  expectations        jsonb NOT NULL,          -- the declared changes
  state               text NOT NULL,
  baseline_hash       text,                    -- the version it is compared with, and rollback returns to
  baseline_release_id uuid,                    -- the release that version came from (null: the first rule set)
  shadow_share_ppm    integer NOT NULL DEFAULT 0,
  preview             boolean NOT NULL DEFAULT false,  -- shadow evaluates at the effective date
  canary_basis_points integer NOT NULL DEFAULT 0,      -- 0 to 10,000: the share of applications it decides
  promote_at          text,                    -- set when promotion waits for the effective time
  created_at          text NOT NULL,
  updated_at          text NOT NULL
);
CREATE INDEX releases_benefit_state ON releases (benefit, state);

CREATE TABLE release_approvals (
  release_id  uuid NOT NULL REFERENCES releases (id),
  kind        text NOT NULL,                   -- promotion | emergency (override of a freeze window)
  approver    text NOT NULL,
  reason      text NOT NULL,
  approved_at text NOT NULL,
  PRIMARY KEY (release_id, kind, approver)
);

-- Dates when no rule change may become active (payment days, say) unless two people override.
CREATE TABLE freeze_windows (
  id         uuid PRIMARY KEY,
  starts_at  text NOT NULL,
  ends_at    text NOT NULL,
  reason     text NOT NULL,
  created_by text NOT NULL,
  created_at text NOT NULL
);

-- Shadow and canary comparisons, summed across instances by the watcher.
CREATE TABLE release_stats (
  release_id        uuid PRIMARY KEY REFERENCES releases (id),
  identical         bigint NOT NULL DEFAULT 0,
  expected          bigint NOT NULL DEFAULT 0,
  unexpected        bigint NOT NULL DEFAULT 0,
  candidate_error   bigint NOT NULL DEFAULT 0,
  active_error      bigint NOT NULL DEFAULT 0,
  both_error        bigint NOT NULL DEFAULT 0,
  aa_identical      bigint NOT NULL DEFAULT 0,   -- the active against itself, compiled twice
  aa_different      bigint NOT NULL DEFAULT 0,
  active_micros     bigint NOT NULL DEFAULT 0,   -- evaluation time, summed
  candidate_micros  bigint NOT NULL DEFAULT 0,
  timed             bigint NOT NULL DEFAULT 0,
  first_unexpected_at text,
  updated_at        text
);

-- A sample of differing cases with both explanations. Holds personal data: purged with decisions.
CREATE TABLE release_samples (
  id             bigserial PRIMARY KEY,
  release_id     uuid NOT NULL REFERENCES releases (id),
  kind           text NOT NULL,
  application_id text NOT NULL,
  inputs         jsonb,
  comparison     jsonb NOT NULL,
  active_trace   jsonb,
  candidate_trace jsonb,
  recorded_at    text NOT NULL
);
CREATE INDEX release_samples_release ON release_samples (release_id, kind);

-- Every step of every release (and other operational actions), chained like the decisions.
CREATE TABLE audit_events (
  seq       bigint PRIMARY KEY CHECK (seq > 0),
  id        uuid NOT NULL UNIQUE,
  at        text NOT NULL,
  actor     text NOT NULL,
  action    text NOT NULL,
  subject   text NOT NULL,
  reason    text NOT NULL,
  evidence  jsonb NOT NULL,
  prev_hash text NOT NULL,
  hash      text NOT NULL UNIQUE
);
CREATE TABLE audit_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq       bigint NOT NULL,
  hash      text NOT NULL
);
INSERT INTO audit_head (seq, hash) VALUES (0, 'sha256:0000000000000000000000000000000000000000000000000000000000000000');

-- Which release decided, and how the application was assigned to it (canary bucket and reason).
ALTER TABLE decisions ADD COLUMN release_id uuid;
ALTER TABLE decisions ADD COLUMN assignment jsonb;
CREATE INDEX decisions_release ON decisions (release_id) WHERE release_id IS NOT NULL;
