import { createHash } from 'node:crypto';
import { EntitleError } from '../errors/index.ts';
import type { Queryable } from '../store/index.ts';
import { canonicalJson } from './record.ts';

/** How long a key names its decision at least; pruned after, a key sent again makes a new decision. */
export const IDEMPOTENCY_KEY_HOURS = 24;

/** A request's Idempotency-Key, as stored: hashed with the caller's key id, never in clear. */
export interface IdempotencyClaim {
  readonly keyHash: string;
  readonly requestHash: string;
}

const KEY_FORMAT = /^[\x21-\x7e]{1,200}$/;

/**
 * The claim for an Idempotency-Key header (undefined when none was sent). Keys are per caller: the
 * same key from two API keys names two requests. A malformed key is refused with the field named.
 */
export function idempotencyClaim(header: unknown, callerId: string, body: unknown): IdempotencyClaim | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !KEY_FORMAT.test(header)) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the Idempotency-Key header is not valid', [
      {
        field: 'Idempotency-Key',
        message:
          'send 1 to 200 visible ASCII characters, such as a UUID made once per submission and sent again with every retry of it',
      },
    ]);
  }
  return {
    keyHash: createHash('sha256').update(callerId).update('\u0000').update(header).digest('hex'),
    requestHash: createHash('sha256')
      .update(canonicalJson(body ?? null))
      .digest('hex'),
  };
}

/**
 * A write refused because its Idempotency-Key already names a decision (another instance, or a
 * retry that arrived while the first was being recorded): the caller answers with that decision.
 */
export class DuplicateSubmission extends Error {
  constructor(readonly claim: IdempotencyClaim) {
    super('the Idempotency-Key already names a decision');
    this.name = 'DuplicateSubmission';
  }
}

/** The decision a key already names, if it does (until pruned); refuses a different request. */
export async function decisionForKey(db: Queryable, claim: IdempotencyClaim): Promise<string | undefined> {
  const { rows } = await db.query<{ decision_id: string; request_hash: string }>(
    'SELECT decision_id, request_hash FROM idempotency_keys WHERE key_hash = $1',
    [claim.keyHash],
  );
  const row = rows[0];
  if (!row) return undefined;
  if (row.request_hash !== claim.requestHash) {
    throw new EntitleError(
      'ENTITLE_IDEMPOTENCY_KEY_REUSED',
      'this Idempotency-Key was sent before with a different request',
      [
        {
          field: 'Idempotency-Key',
          message: 'use a new key for a different request; a key may only retry exactly the same request',
        },
      ],
    );
  }
  return row.decision_id;
}

/**
 * Forgets keys older than their lifetime, a batch at a time so that no statement runs long
 * (each has the service's deadline); returns how many.
 */
export async function pruneIdempotencyKeys(db: Queryable, batch = 5_000): Promise<number> {
  const before = new Date(Date.now() - IDEMPOTENCY_KEY_HOURS * 3_600_000).toISOString();
  let total = 0;
  for (;;) {
    const { rows } = await db.query<{ n: string }>(
      `WITH gone AS (DELETE FROM idempotency_keys WHERE key_hash IN (
         SELECT key_hash FROM idempotency_keys WHERE created_at < $1 LIMIT $2) RETURNING 1)
       SELECT count(*) AS n FROM gone`,
      [before, batch],
    );
    const n = Number(rows[0]?.n ?? 0);
    total += n;
    if (n < batch) return total;
  }
}
