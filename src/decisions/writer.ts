import type { RuleSetBundle } from '../rules/index.ts';
import { abandonedTransactionMs, DatabaseDeadline, type Database, type Queryable } from '../store/index.ts';
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
  /** Decisions recorded together or not at all (one household, several benefits); each holds the same list. */
  group: Pending[] | undefined;
  /** In a transaction now: past its deadline it is in doubt, not simply unrecorded. */
  inFlight: boolean;
  /** Its caller was answered before its transaction ended (the deadline passed). */
  answered: boolean;
  timer: NodeJS.Timeout | undefined;
}

export interface WriterOptions {
  /** Most decisions in one transaction (default 256). */
  readonly maxBatch?: number;
  /**
   * The longest a caller waits, from write to answer (0, the default: no limit on the wait in the
   * queue; each transaction still has the database's own deadline). The service gives the
   * database's deadline (`db.deadlineMs`), so an assessment waits no longer than any other call.
   * A write still queued then is not recorded; one in a transaction is in doubt until the
   * transaction ends.
   */
  readonly deadlineMs?: number;
  /** How often decisions in doubt are looked for once the database answers (default 5 s). */
  readonly recheckMs?: number;
}

/**
 * The answer to a write whose transaction may have committed: the database stopped answering
 * after the work was sent. The writer finds out later which it was (see DecisionWriter).
 */
export class DecisionInDoubt extends Error {
  constructor(
    readonly decisionId: string,
    /** Long enough for the server to have ended the transaction either way (see openPostgres). */
    readonly retryAfterSeconds: number,
  ) {
    super('the decision may have been recorded: the database stopped answering while it was being committed');
    this.name = 'DecisionInDoubt';
  }
}

/** How long a decision in doubt is looked for: long after any commit in flight could land. */
const IN_DOUBT_FOR_MS = 10 * 60_000;

export type UnacknowledgedReason = 'client_gone' | 'deadline';

export interface WriterObserver {
  /** Called after each batch commits (or fails), for metrics. */
  batch(size: number, seconds: number, ok: boolean): void;
  /** Decisions found recorded after their client had been told otherwise, or had gone. */
  unacknowledged?(reason: UnacknowledgedReason, count: number): void;
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
  /** Decisions whose transaction ended without an answer, by when: committed or not, unknown yet. */
  private readonly inDoubt = new Map<string, number>();
  /** Decisions recorded whose caller never had the answer, to be noted in unacknowledged_decisions. */
  private readonly toNote = new Map<string, UnacknowledgedReason>();
  private readonly maxBatch: number;
  private readonly deadlineMs: number;
  private readonly recheck: NodeJS.Timeout;
  private readonly retryAfterSeconds: number;
  private settling: Promise<void> | undefined;
  private settleAgain = false;

  constructor(
    private readonly db: Database,
    private readonly observer?: WriterObserver,
    options: WriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.deadlineMs = options.deadlineMs ?? 0;
    // PostgreSQL ends a transaction whose client vanished after twice the deadline, at least 10 s.
    this.retryAfterSeconds = Math.ceil(abandonedTransactionMs(this.deadlineMs) / 1000);
    this.recheck = setInterval(() => void this.settleDoubts().catch(() => undefined), options.recheckMs ?? 5_000);
    this.recheck.unref();
  }

  /**
   * Notes that a recorded decision's caller never had the answer (its connection closed first):
   * counted, and listed by unacknowledged(). A retry without an Idempotency-Key makes a second
   * decision; this is how the first is found.
   */
  acknowledgementLost(decisionId: string): void {
    this.toNote.set(decisionId, 'client_gone');
    void this.settleDoubts().catch(() => undefined);
  }

  /** Stops looking for decisions in doubt (the service is closing); notes what it can first. */
  async close(): Promise<void> {
    clearInterval(this.recheck);
    await this.settleDoubts().catch(() => undefined);
  }

  /**
   * Resolves once the decision is committed and queued for the log; rejects if it could not be. With a claim
   * (an Idempotency-Key), the key is stored in the same transaction, and if it already names a
   * decision this one is not recorded: the write rejects with DuplicateSubmission.
   */
  write(draft: DecisionDraft, bundle: RuleSetBundle, claim?: IdempotencyClaim): Promise<DecisionRecord> {
    return this.writeAll([{ draft, bundle, claim }])[0]!;
  }

  /**
   * Records several decisions in one transaction: all are committed, or none (one household
   * assessed for several benefits). Each resolves or rejects as write does; if any one's
   * Idempotency-Key already names a decision, none is recorded and all reject DuplicateSubmission.
   */
  writeAll(
    writes: readonly { draft: DecisionDraft; bundle: RuleSetBundle; claim?: IdempotencyClaim | undefined }[],
  ): Promise<DecisionRecord>[] {
    if (writes.length === 0) return [];
    // Everything is worked out before the writes join a transaction, so transactions stay short.
    const createdAt = new Date().toISOString();
    const group: Pending[] | undefined = writes.length > 1 ? [] : undefined;
    const promises = writes.map(({ draft, bundle, claim }) => {
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
      return new Promise<DecisionRecord>((resolve, reject) => {
        const pending: Pending = {
          ...prepared,
          resolve,
          reject,
          group,
          inFlight: false,
          answered: false,
          timer: undefined,
        };
        group?.push(pending);
        this.queue.push(pending);
      });
    });
    // One timer for the whole group: its writes are answered together.
    const members = group ?? [this.queue[this.queue.length - 1]!];
    if (this.deadlineMs > 0) {
      const timer = setTimeout(() => {
        for (const pending of members) this.expire(pending);
      }, this.deadlineMs);
      for (const pending of members) pending.timer = timer;
    }
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => void this.flush());
    }
    return promises;
  }

  /**
   * A write's deadline passed: one still queued is refused (it was never sent), one in a
   * transaction is answered in doubt and followed up when its transaction ends.
   */
  private expire(pending: Pending): void {
    if (pending.answered) return;
    pending.answered = true;
    if (!pending.inFlight) {
      const at = this.queue.indexOf(pending);
      if (at >= 0) this.queue.splice(at, 1);
      pending.reject(new DatabaseDeadline('transaction', this.deadlineMs));
    } else {
      pending.reject(new DecisionInDoubt(pending.draft.id, this.retryAfterSeconds));
    }
  }

  /** Waits until every write accepted so far is committed or rejected (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.flushing || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const taken = this.queue.splice(0, this.maxBatch);
        // A group is never split between transactions: the rest of one cut short comes too.
        while (
          this.queue.length > 0 &&
          this.queue[0]!.group !== undefined &&
          this.queue[0]!.group === taken.at(-1)?.group
        )
          taken.push(this.queue.shift()!);
        // The writes in the transaction: those whose deadline passed while it waited for a
        // connection were answered "not recorded" and are left out.
        let batch: Pending[] = taken;
        const started = process.hrtime.bigint();
        try {
          const { records, duplicates } = await this.db.transaction(async (tx) => {
            batch = taken.filter((p) => !p.answered);
            for (const pending of batch) pending.inFlight = true;
            const duplicates = await this.claimKeys(tx, batch);
            // A group with one key already used is recorded not at all, and the keys its other
            // writes just claimed are given up in the same transaction: a key names a decision
            // exactly when that decision is recorded.
            const given = new Set<Pending>();
            for (const pending of [...duplicates])
              for (const member of pending.group ?? [])
                if (!duplicates.has(member)) {
                  duplicates.add(member);
                  if (member.claim) given.add(member);
                }
            if (given.size > 0)
              await tx.query(
                'DELETE FROM idempotency_keys WHERE key_hash = ANY($1::text[]) AND decision_id = ANY($2::uuid[])',
                [[...given].map((p) => p.claim!.keyHash), [...given].map((p) => p.draft.id)],
              );
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
            clearTimeout(pending.timer);
            if (duplicates.has(pending)) {
              if (!pending.answered) pending.reject(new DuplicateSubmission(pending.claim!));
              continue;
            }
            const record = records[i++]!;
            // Committed after its caller was told it might not be: counted and listed.
            if (pending.answered) this.toNote.set(record.id, 'deadline');
            else pending.resolve(record);
          }
          if (this.toNote.size > 0) void this.settleDoubts().catch(() => undefined);
        } catch (error) {
          this.observer?.batch(taken.length, Number(process.hrtime.bigint() - started) / 1e9, false);
          const unknown = (error as { outcomeUnknown?: boolean }).outcomeUnknown === true;
          for (const pending of taken) {
            clearTimeout(pending.timer);
            if (unknown && pending.inFlight) this.inDoubt.set(pending.draft.id, Date.now());
            if (pending.answered) continue;
            pending.answered = true;
            pending.reject(
              unknown && pending.inFlight ? new DecisionInDoubt(pending.draft.id, this.retryAfterSeconds) : error,
            );
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /**
   * Looks for the decisions in doubt: those found were committed after their callers had been
   * answered 503, and are noted with the decisions whose callers had gone; those not found after
   * IN_DOUBT_FOR_MS never will be. Runs again later if the database does not answer.
   */
  private settleDoubts(): Promise<void> {
    // One at a time (each takes a connection): a call while one runs asks for one more after it.
    if (this.settling) {
      this.settleAgain = true;
      return this.settling;
    }
    this.settling = (async () => {
      do {
        this.settleAgain = false;
        await this.settleOnce();
      } while (this.settleAgain);
    })().finally(() => (this.settling = undefined));
    return this.settling;
  }

  private async settleOnce(): Promise<void> {
    if (this.inDoubt.size > 0) {
      const ids = [...this.inDoubt.keys()];
      const { rows } = await this.db.query<{ id: string }>('SELECT id FROM decisions WHERE id = ANY($1::uuid[])', [
        ids,
      ]);
      for (const { id } of rows) {
        this.inDoubt.delete(id);
        this.toNote.set(id, 'deadline');
      }
      const giveUp = Date.now() - IN_DOUBT_FOR_MS;
      for (const [id, since] of this.inDoubt) if (since < giveUp) this.inDoubt.delete(id);
    }
    if (this.toNote.size === 0) return;
    const noting = [...this.toNote];
    // Counted once, by the rows this insert adds (another instance may have noted some already).
    const { rows } = await this.db.query<{ decision_id: string; reason: UnacknowledgedReason }>(
      `INSERT INTO unacknowledged_decisions (decision_id, reason, noted_at)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) ON CONFLICT (decision_id) DO NOTHING
       RETURNING decision_id, reason`,
      [noting.map(([id]) => id), noting.map(([, reason]) => reason), noting.map(() => new Date().toISOString())],
    );
    for (const [id] of noting) this.toNote.delete(id);
    for (const row of rows) this.observer?.unacknowledged?.(row.reason, 1);
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
