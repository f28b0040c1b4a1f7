import type { RuleSetBundle } from '../rules/index.ts';
import type { Database, Queryable } from '../store/index.ts';
import { storeBundle } from './repository.ts';
import { DuplicateSubmission, type IdempotencyClaim } from './idempotency.ts';
import { digestInputs, recordHash, type DecisionDraft, type DecisionRecord } from './record.ts';

/** A write with its hash and columns worked out before it joins a transaction. */
interface Pending {
  readonly draft: DecisionDraft;
  readonly bundle: RuleSetBundle;
  readonly createdAt: string;
  readonly inputsDigest: string;
  readonly recordHash: string;
  /** The JSON columns, serialised outside the transaction. */
  readonly inputsJson: string;
  readonly outcomeJson: string;
  readonly explanationJson: string;
  readonly claim: IdempotencyClaim | undefined;
  readonly resolve: (record: DecisionRecord) => void;
  readonly reject: (error: unknown) => void;
}

export interface WriterObserver {
  /** Called after each batch commits (or fails), for metrics. */
  batch(size: number, seconds: number, ok: boolean): void;
}

const COLUMNS = 16;

/**
 * Records decisions with group commit: every write waiting while a transaction is in flight joins
 * the next one, so throughput grows with load while each caller still waits for the commit that
 * holds its own record. A failed transaction rejects every write in it; nothing partial is ever
 * acknowledged. Nothing is locked but the rows written: each decision is a new row, and its record
 * hash is queued for the verifiable log in the same transaction, so instances write side by side
 * and the sequencer places the leaves a moment later.
 */
export class DecisionWriter {
  private queue: Pending[] = [];
  private flushing = false;
  /** Rule-set versions known to be stored; only added after their transaction commits. */
  private readonly storedRuleSets = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly observer?: WriterObserver,
    private readonly maxBatch = 256,
  ) {}

  /**
   * Resolves once the decision is committed and queued for the log; rejects if it could not be. With a claim
   * (an Idempotency-Key), the key is stored in the same transaction, and if it already names a
   * decision this one is not recorded: the write rejects with DuplicateSubmission.
   */
  write(draft: DecisionDraft, bundle: RuleSetBundle, claim?: IdempotencyClaim): Promise<DecisionRecord> {
    // Everything is worked out before the write joins a transaction, so transactions stay short.
    const createdAt = new Date().toISOString();
    const inputsDigest = digestInputs(draft.inputs);
    const prepared = {
      draft,
      bundle,
      createdAt,
      inputsDigest,
      recordHash: recordHash({ ...draft, seq: 0, createdAt, inputsDigest, prevHash: null }),
      inputsJson: JSON.stringify(draft.inputs),
      outcomeJson: JSON.stringify(draft.outcome),
      explanationJson: JSON.stringify(draft.explanation),
      claim,
    };
    return new Promise((resolve, reject) => {
      this.queue.push({ ...prepared, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Waits until every write accepted so far is committed or rejected (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.flushing || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        const started = process.hrtime.bigint();
        try {
          const { records, duplicates } = await this.db.transaction(async (tx) => {
            const duplicates = await this.claimKeys(tx, batch);
            return {
              records: await this.append(
                tx,
                batch.filter((p) => !duplicates.has(p)),
              ),
              duplicates,
            };
          });
          this.observer?.batch(batch.length, Number(process.hrtime.bigint() - started) / 1e9, true);
          for (const hash of new Set(batch.map((p) => p.draft.ruleset.hash))) this.storedRuleSets.add(hash);
          let i = 0;
          for (const pending of batch) {
            if (duplicates.has(pending)) pending.reject(new DuplicateSubmission(pending.claim!));
            else pending.resolve(records[i++]!);
          }
        } catch (error) {
          this.observer?.batch(batch.length, Number(process.hrtime.bigint() - started) / 1e9, false);
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Stores the batch's idempotency keys; returns the writes whose key already names a decision.
   * A key inserted by a transaction still open elsewhere makes this one wait for it, so two
   * instances given the same key at once record one decision.
   */
  private async claimKeys(tx: Queryable, batch: readonly Pending[]): Promise<Set<Pending>> {
    const duplicates = new Set<Pending>();
    const first = new Map<string, Pending>();
    for (const pending of batch) {
      if (!pending.claim) continue;
      if (first.has(pending.claim.keyHash)) duplicates.add(pending);
      else first.set(pending.claim.keyHash, pending);
    }
    if (first.size === 0) return duplicates;
    // In one order everywhere, so two transactions claiming the same keys cannot deadlock.
    const claimed = [...first.values()].sort((a, b) => (a.claim!.keyHash < b.claim!.keyHash ? -1 : 1));
    const { rows } = await tx.query<{ key_hash: string }>(
      `INSERT INTO idempotency_keys (key_hash, request_hash, decision_id, created_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[]) ON CONFLICT (key_hash) DO NOTHING RETURNING key_hash`,
      [
        claimed.map((p) => p.claim!.keyHash),
        claimed.map((p) => p.claim!.requestHash),
        claimed.map((p) => p.draft.id),
        claimed.map((p) => p.createdAt),
      ],
    );
    const stored = new Set(rows.map((r) => r.key_hash));
    for (const pending of claimed) if (!stored.has(pending.claim!.keyHash)) duplicates.add(pending);
    return duplicates;
  }

  private async append(tx: Queryable, batch: readonly Pending[]): Promise<DecisionRecord[]> {
    if (batch.length === 0) return [];
    const newRuleSets = new Map<string, RuleSetBundle>();
    for (const { draft, bundle } of batch)
      if (!this.storedRuleSets.has(draft.ruleset.hash)) newRuleSets.set(draft.ruleset.hash, bundle);
    for (const [hash, bundle] of newRuleSets) await storeBundle(tx, bundle, hash);

    // One array per column: the statement is the same whatever the batch size, so PostgreSQL
    // parses and plans it once per connection, and parameters do not grow with the batch.
    const columns: unknown[][] = Array.from({ length: COLUMNS }, () => []);
    for (const p of batch) {
      const d = p.draft;
      const row = [
        d.id,
        d.benefit,
        d.applicationId,
        d.assessmentDate,
        d.ruleset.id,
        d.ruleset.hash,
        d.engineVersion,
        p.inputsJson,
        p.inputsDigest,
        p.outcomeJson,
        p.explanationJson,
        p.createdAt,
        null,
        p.recordHash,
        d.assignment?.releaseId ?? null,
        d.assignment ? JSON.stringify(d.assignment) : null,
      ];
      row.forEach((value, c) => columns[c]!.push(value));
    }
    const { rows } = await tx.query<{ id: string; seq: string | number }>(
      `INSERT INTO decisions (seq, id, benefit, application_id, assessment_date, ruleset_id, ruleset_hash, engine_version,
         inputs, inputs_digest, outcome, explanation, created_at, prev_hash, record_hash, release_id, assignment)
       SELECT nextval('decisions_seq'), * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
         $8::jsonb[], $9::text[], $10::jsonb[], $11::jsonb[], $12::text[], $13::text[], $14::text[], $15::uuid[], $16::jsonb[])
       RETURNING id, seq`,
      columns,
    );
    // Queued for the verifiable log in the same transaction, in the batch's order; the sequencer
    // places them a moment later.
    await tx.query("INSERT INTO log_queue (log, ref, leaf) SELECT 'decisions', * FROM unnest($1::uuid[], $2::text[])", [
      batch.map((p) => p.draft.id),
      batch.map((p) => p.recordHash),
    ]);
    const seqs = new Map(rows.map((r) => [r.id, Number(r.seq)]));
    return batch.map((p): DecisionRecord => ({
      ...p.draft,
      seq: seqs.get(p.draft.id)!,
      inputsDigest: p.inputsDigest,
      createdAt: p.createdAt,
      prevHash: null,
      purgedAt: null,
      recordHash: p.recordHash,
      releaseId: p.draft.assignment?.releaseId ?? null,
    }));
  }
}
