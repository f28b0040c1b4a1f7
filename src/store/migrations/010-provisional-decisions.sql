-- entitle:no-transaction
-- Decisions made on a provisional rate, by benefit: the ones a release that confirms a rate
-- re-evaluates for its remediation worklist (src/remediation/worklist.ts). Partial, so it holds
-- only those decisions; built concurrently, as decisions is a large table.
DROP INDEX CONCURRENTLY IF EXISTS decisions_provisional;
CREATE INDEX CONCURRENTLY decisions_provisional ON decisions (benefit, id) WHERE (outcome->>'provisional') = 'true';
