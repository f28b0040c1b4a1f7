-- The people who hold API keys. The two-person rule compares people, never the spelling of a
-- name: a person is known by the normalised form of their name (handle: Unicode NFKC, spaces
-- collapsed, case folded), which is unique, and one person may hold several keys. A key made
-- before this migration has no person and stands for the person named as the key is.
-- Expand only: the previous release never reads either. api_keys is a small table.

CREATE TABLE people (
  id         uuid PRIMARY KEY,
  name       text NOT NULL,
  handle     text NOT NULL UNIQUE,
  created_at text NOT NULL
);

ALTER TABLE api_keys ADD COLUMN person_id uuid REFERENCES people (id);
