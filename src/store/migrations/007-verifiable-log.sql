-- The verifiable log (RFC 9162): every decision and every audit event becomes a leaf of a Merkle
-- tree, whose signed roots (checkpoints) are kept inside and outside the database. Writers no
-- longer queue behind one row: a decision is inserted and its record hash put in the log's queue
-- in the same transaction; the sequencer (one instance at a time) gives queued leaves their
-- places and signs a checkpoint. Expand only: the previous release still appends to the old hash
-- chain, and its records are queued by triggers, so a rolling deploy loses nothing from the log.

-- Decisions recorded into the log take their storage number from this sequence: -1, -2, -3, ...
-- The previous release, running beside this one during a rolling deploy, still numbers its records
-- 1, 2, 3, ... from chain_head, and its chain watch follows them upwards: it never meets a number
-- of the log's, so it neither collides with one nor mistakes one for a gap in its chain. A
-- decision's place in the log is its leaf index, not this number.
CREATE SEQUENCE decisions_seq INCREMENT BY -1;
ALTER TABLE decisions DROP CONSTRAINT decisions_seq_positive;

-- Leaves waiting for the sequencer, in the order they committed their queue numbers.
CREATE TABLE log_queue (
  queued bigserial PRIMARY KEY,
  log    text NOT NULL CHECK (log IN ('decisions', 'audit')),
  ref    uuid NOT NULL,                        -- the decision's or audit event's id
  leaf   text NOT NULL                         -- the leaf's data: the record's hash, as written
);
CREATE INDEX log_queue_ref ON log_queue (log, ref);

-- The leaves in their places: leaf_index 0, 1, 2, ... with no gap.
CREATE TABLE log_entries (
  log        text NOT NULL,
  leaf_index bigint NOT NULL CHECK (leaf_index >= 0),
  ref        uuid NOT NULL,
  leaf       text NOT NULL,
  PRIMARY KEY (log, leaf_index),
  UNIQUE (log, ref)
);

-- The hash of every perfect subtree of two leaves or more: level k holds the hash of the 2^k
-- leaves from idx * 2^k (the leaf hashes, level 0, come from log_entries). Any proof for any tree
-- size reads at most two per level.
CREATE TABLE log_nodes (
  log   text NOT NULL,
  level smallint NOT NULL,
  idx   bigint NOT NULL,
  hash  text NOT NULL,                         -- hex
  PRIMARY KEY (log, level, idx)
);

-- Every signed checkpoint, as signed. The newest is served; copies are also written outside the
-- database (ENTITLE_CHECKPOINT_DIR), where a rewrite of these rows cannot reach them.
CREATE TABLE log_checkpoints (
  log     text NOT NULL,
  size    bigint NOT NULL,
  root    text NOT NULL,                       -- hex
  note    text NOT NULL,                       -- the signed note (c2sp.org/tlog-checkpoint)
  made_at text NOT NULL,
  PRIMARY KEY (log, size)
);

-- This release's writer queues its decisions itself, in the statement after the insert. The
-- previous release, still running during a rolling deploy, does not: its decisions (the only
-- ones with prev_hash) are queued by this row trigger, whose condition PostgreSQL checks without
-- calling the function for every other row.
-- What was recorded before the log: the old chain becomes the first leaves, in its order, each
-- leaf the record hash the chain already holds. Nothing is re-hashed or re-signed. This bulk copy
-- runs before anything below locks the tables, so the previous release keeps deciding meanwhile;
-- what it records in the meantime is copied after the locks are taken (the old chain numbers its
-- records in order, so those are the ones above the bound).
CREATE TEMPORARY TABLE migration_bound ON COMMIT DROP AS
  SELECT (SELECT seq FROM chain_head) AS decisions, (SELECT seq FROM audit_head) AS audit;
INSERT INTO log_queue (log, ref, leaf)
  SELECT 'decisions', id, record_hash FROM decisions WHERE seq <= (SELECT decisions FROM migration_bound) ORDER BY seq;
INSERT INTO log_queue (log, ref, leaf)
  SELECT 'audit', id, hash FROM audit_events WHERE seq <= (SELECT audit FROM migration_bound) ORDER BY seq;

-- This release's writer queues its decisions itself, in the statement after the insert. The
-- previous release, still running during a rolling deploy, does not: its decisions (the only
-- ones with prev_hash) are queued by this row trigger, whose condition PostgreSQL checks without
-- calling the function for every other row.
CREATE FUNCTION entitle_queue_decision() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
  INSERT INTO log_queue (log, ref, leaf) VALUES (''decisions'', NEW.id, NEW.record_hash);
  RETURN NULL;
END';

CREATE FUNCTION entitle_queue_audit() RETURNS trigger LANGUAGE plpgsql AS '
BEGIN
  INSERT INTO log_queue (log, ref, leaf) SELECT ''audit'', id, hash FROM added ORDER BY seq;
  RETURN NULL;
END';

-- From here the tables are locked against writes until the migration commits: moments, since
-- only what was recorded during the bulk copy is left to copy.
CREATE TRIGGER decisions_into_log AFTER INSERT ON decisions
  FOR EACH ROW WHEN (NEW.prev_hash IS NOT NULL) EXECUTE FUNCTION entitle_queue_decision();

CREATE TRIGGER audit_events_into_log AFTER INSERT ON audit_events
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION entitle_queue_audit();

-- Decisions in the log are not linked to the one before: the tree links them.
ALTER TABLE decisions ALTER COLUMN prev_hash DROP NOT NULL;

INSERT INTO log_queue (log, ref, leaf)
  SELECT 'decisions', id, record_hash FROM decisions
  WHERE seq > (SELECT decisions FROM migration_bound) AND prev_hash IS NOT NULL ORDER BY seq;
INSERT INTO log_queue (log, ref, leaf)
  SELECT 'audit', id, hash FROM audit_events WHERE seq > (SELECT audit FROM migration_bound) ORDER BY seq;
