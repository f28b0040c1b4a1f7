-- The verifiable log (RFC 9162): every decision and every audit event becomes a leaf of a Merkle
-- tree, whose signed roots (checkpoints) are kept inside and outside the database. Writers no
-- longer queue behind one row: a decision is inserted, and a trigger puts its record hash in the
-- log's queue; the sequencer (one instance at a time) gives queued leaves their places and signs a
-- checkpoint. Expand only: the previous release still appends to the old hash chain, and its
-- records are queued by triggers, so a rolling deploy loses nothing from the log.

-- Decisions recorded into the log take their storage number from this sequence, far above any
-- number the old chain gives (the previous release still numbers its records from chain_head
-- during a rolling deploy, so the two never meet). Their place in the log is their leaf index.
CREATE SEQUENCE decisions_seq START WITH 1000000000001;

-- Decisions in the log are not linked to the one before: the tree links them.
ALTER TABLE decisions ALTER COLUMN prev_hash DROP NOT NULL;

-- Leaves waiting for the sequencer, in the order they committed their queue numbers.
CREATE TABLE log_queue (
  queued bigserial PRIMARY KEY,
  log    text NOT NULL CHECK (log IN ('decisions', 'audit')),
  ref    uuid NOT NULL,                        -- the decision's or audit event's id
  leaf   text NOT NULL                         -- the leaf's data: the record's hash, as written
);

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

CREATE TRIGGER decisions_into_log AFTER INSERT ON decisions
  FOR EACH ROW WHEN (NEW.prev_hash IS NOT NULL) EXECUTE FUNCTION entitle_queue_decision();

CREATE TRIGGER audit_events_into_log AFTER INSERT ON audit_events
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION entitle_queue_audit();

-- What was recorded before the log: the old chain becomes the first leaves, in its order, each
-- leaf the record hash the chain already holds. Nothing is re-hashed or re-signed.
INSERT INTO log_queue (log, ref, leaf) SELECT 'decisions', id, record_hash FROM decisions ORDER BY seq;
INSERT INTO log_queue (log, ref, leaf) SELECT 'audit', id, hash FROM audit_events ORDER BY seq;
