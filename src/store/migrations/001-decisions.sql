-- Decisions, the rule sets that made them, who read them, and API keys.
-- Migrations are expand-only within a release: a later release may add, never remove or rename,
-- what the previous release reads (see docs/operations/migrations.md).

CREATE TABLE ruleset_versions (
  hash          text PRIMARY KEY,              -- sha256:... of the canonical bundle
  ruleset_id    text NOT NULL,
  benefit       text NOT NULL,
  bundle        jsonb NOT NULL,                -- the whole rule set, so replay never needs the files
  first_used_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE decisions (
  seq             bigint PRIMARY KEY,          -- position in the hash chain: 1, 2, 3, ...
  id              uuid NOT NULL UNIQUE,        -- UUIDv7
  benefit         text NOT NULL,
  application_id  text NOT NULL,
  assessment_date text NOT NULL,
  ruleset_id      text NOT NULL,
  ruleset_hash    text NOT NULL REFERENCES ruleset_versions (hash),
  engine_version  text NOT NULL,
  inputs          jsonb,                       -- personal data; NULL once purged under retention
  inputs_digest   text NOT NULL,               -- sha256 of the canonical inputs, kept after purge
  outcome         jsonb NOT NULL,
  explanation     jsonb NOT NULL,
  created_at      text NOT NULL,               -- ISO 8601 UTC, hashed as written
  purged_at       text,
  prev_hash       text NOT NULL,
  record_hash     text NOT NULL UNIQUE
);
CREATE INDEX decisions_created_at ON decisions (created_at);
CREATE INDEX decisions_application ON decisions (application_id);

-- The end of the chain, locked by every writer so records join it one at a time, in order,
-- whichever instance writes them.
CREATE TABLE chain_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq       bigint NOT NULL,
  hash      text NOT NULL
);
INSERT INTO chain_head (seq, hash) VALUES (0, 'sha256:0000000000000000000000000000000000000000000000000000000000000000');

-- Every read of a decision: decisions hold personal data.
CREATE TABLE decision_reads (
  id          bigserial PRIMARY KEY,
  decision_id uuid NOT NULL,
  key_id      uuid NOT NULL,
  key_name    text NOT NULL,
  action      text NOT NULL,                 -- read | replay
  read_at     text NOT NULL
);
CREATE INDEX decision_reads_decision ON decision_reads (decision_id);

CREATE TABLE api_keys (
  id         uuid PRIMARY KEY,
  name       text NOT NULL UNIQUE,
  key_hash   text NOT NULL UNIQUE,           -- sha256 of the key; the key itself is never stored
  roles      text[] NOT NULL,
  created_at text NOT NULL,
  revoked_at text
);
