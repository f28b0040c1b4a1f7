-- Expand only. At most one release per benefit is compared with live traffic at a time: the
-- service tests one, and two would split the evidence. startShadow checks this too; the index
-- makes two concurrent starts impossible rather than unlikely.
CREATE UNIQUE INDEX releases_one_under_test ON releases (benefit) WHERE state IN ('shadow', 'canary');
