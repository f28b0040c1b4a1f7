-- Expand: a decision's place in the chain is 1 or more. A row outside the chain (seq 0 or
-- less) could otherwise be read like any other decision without audit verify ever seeing it.
ALTER TABLE decisions ADD CONSTRAINT decisions_seq_positive CHECK (seq > 0);
