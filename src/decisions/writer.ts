import type { RuleSetBundle } from '../rules/index.ts';
import type { Database, Queryable } from '../store/index.ts';
import { digestInputs, recordHash, type DecisionDraft, type DecisionRecord } from './record.ts';

interface Pending {
  readonly draft: DecisionDraft;
  readonly bundle: RuleSetBundle;
  readonly resolve: (record: DecisionRecord) => void;
  readonly reject: (error: unknown) => void;
}

export interface WriterObserver {
  /** Called after each batch commits (or fails), for metrics. */
  batch(size: number, seconds: number, ok: boolean): void;
}

const COLUMNS = 16;

/**
 * Appends decisions to the hash chain with group commit: every write waiting while a transaction
 * is in flight joins the next one, so throughput grows with load while each caller still waits
 * for the commit that holds its own record. A failed transaction rejects every write in it;
 * nothing partial is ever acknowledged.
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

  /** Resolves once the decision is committed and chained; rejects if it could not be. */
  write(draft: DecisionDraft, bundle: RuleSetBundle): Promise<DecisionRecord> {
    return new Promise((resolve, reject) => {
      this.queue.push({ draft, bundle, resolve, reject });
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
          const records = await this.db.transaction((tx) => this.append(tx, batch));
          this.observer?.batch(batch.length, Number(process.hrtime.bigint() - started) / 1e9, true);
          for (const hash of new Set(batch.map((p) => p.draft.ruleset.hash))) this.storedRuleSets.add(hash);
          batch.forEach((pending, i) => pending.resolve(records[i]!));
        } catch (error) {
          this.observer?.batch(batch.length, Number(process.hrtime.bigint() - started) / 1e9, false);
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async append(tx: Queryable, batch: readonly Pending[]): Promise<DecisionRecord[]> {
    // Lock the end of the chain: records join it one batch at a time, in one order.
    const { rows } = await tx.query<{ seq: number; hash: string }>('SELECT seq, hash FROM chain_head FOR UPDATE');
    const head = rows[0];
    if (!head) throw new Error('the chain head is missing: the database was not migrated');

    const newRuleSets = new Map<string, RuleSetBundle>();
    for (const { draft, bundle } of batch) if (!this.storedRuleSets.has(draft.ruleset.hash)) newRuleSets.set(draft.ruleset.hash, bundle);
    for (const [hash, bundle] of newRuleSets) {
      await tx.query('INSERT INTO ruleset_versions (hash, ruleset_id, benefit, bundle) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING', [
        hash,
        bundle.ruleset.id,
        bundle.ruleset.benefit,
        JSON.stringify(bundle),
      ]);
    }

    const createdAt = new Date().toISOString();
    let seq = Number(head.seq);
    let prevHash = head.hash;
    const records = batch.map(({ draft }): DecisionRecord => {
      seq += 1;
      const unsigned = { ...draft, seq, inputsDigest: digestInputs(draft.inputs), createdAt, prevHash };
      const record = { ...unsigned, purgedAt: null, recordHash: recordHash(unsigned) };
      prevHash = record.recordHash;
      return record;
    });

    const values: unknown[] = [];
    const tuples = records.map((r, i) => {
      values.push(r.seq, r.id, r.benefit, r.applicationId, r.assessmentDate, r.ruleset.id, r.ruleset.hash, r.engineVersion,
        JSON.stringify(r.inputs), r.inputsDigest, JSON.stringify(r.outcome), JSON.stringify(r.explanation), r.createdAt, r.prevHash, r.recordHash, null);
      return `(${Array.from({ length: COLUMNS }, (_, c) => `$${i * COLUMNS + c + 1}`).join(', ')})`;
    });
    await tx.query(
      `INSERT INTO decisions (seq, id, benefit, application_id, assessment_date, ruleset_id, ruleset_hash, engine_version,
         inputs, inputs_digest, outcome, explanation, created_at, prev_hash, record_hash, purged_at) VALUES ${tuples.join(', ')}`,
      values,
    );
    await tx.query('UPDATE chain_head SET seq = $1, hash = $2', [seq, prevHash]);
    return records;
  }
}
