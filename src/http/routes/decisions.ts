import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isDeepStrictEqual } from 'node:util';
import {
  checkAgainstLog,
  readDecision,
  readsOf,
  receiptFor,
  storedBundle,
  unacknowledgedDecisions,
  type DecisionRecord,
  type Reader,
} from '../../decisions/index.ts';
import { EntitleError } from '../../errors/index.ts';
import { ENGINE, ruleSetFromBundle, type RuleSet } from '../../rules/index.ts';
import type { Database } from '../../store/index.ts';
import type { ServiceContext } from '../context.ts';

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } } as const;

/** Every store failure reaches the caller as 503 with Retry-After: never a 500, never a partial answer. */
export async function fromStore<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof EntitleError) throw error;
    throw new EntitleError('ENTITLE_STORE_UNAVAILABLE', 'the decision store could not be reached');
  }
}

function readerOf(request: FastifyRequest): Reader {
  return { keyId: request.apiKey!.id, keyName: request.apiKey!.name };
}

/** Differences between two JSON values, as paths: `outcome.elements.standardAllowance`. */
export function differences(
  recorded: unknown,
  replayed: unknown,
  path = '',
): { path: string; recorded: unknown; replayed: unknown }[] {
  if (isDeepStrictEqual(recorded, replayed)) return [];
  const bothObjects =
    recorded !== null &&
    replayed !== null &&
    typeof recorded === 'object' &&
    typeof replayed === 'object' &&
    Array.isArray(recorded) === Array.isArray(replayed);
  if (!bothObjects) return [{ path: path || '(whole)', recorded, replayed }];
  const keys = new Set([...Object.keys(recorded), ...Object.keys(replayed)]);
  return [...keys].flatMap((key) =>
    differences(
      (recorded as Record<string, unknown>)[key],
      (replayed as Record<string, unknown>)[key],
      path ? `${path}.${key}` : key,
    ),
  );
}

/** Compiled rule sets by hash: the ones in service, then any rebuilt from storage for replay. */
class ReplayRuleSets {
  private readonly rebuilt = new Map<string, RuleSet>();

  constructor(
    private readonly db: Database,
    private readonly inService: ReadonlyMap<string, RuleSet>,
  ) {}

  async byHash(hash: string): Promise<RuleSet> {
    for (const ruleSet of this.inService.values()) if (ruleSet.hash === hash) return ruleSet;
    const cached = this.rebuilt.get(hash);
    if (cached) return cached;
    const bundle = await fromStore(() => storedBundle(this.db, hash));
    if (bundle === undefined)
      throw new EntitleError('ENTITLE_INTERNAL', `the rule-set version ${hash} of this decision is not stored`);
    const ruleSet = ruleSetFromBundle(bundle, hash);
    if (ruleSet.hash !== hash) {
      // The stored rules no longer hash to the version the decision names: the store was altered.
      throw new EntitleError(
        'ENTITLE_INTERNAL',
        `the stored rule-set version ${hash} no longer matches its hash; run "entitle audit verify"`,
      );
    }
    if (this.rebuilt.size >= 32) this.rebuilt.delete(this.rebuilt.keys().next().value!);
    this.rebuilt.set(hash, ruleSet);
    return ruleSet;
  }
}

function stored(record: DecisionRecord, leafIndex: number | null) {
  return {
    decisionId: record.id,
    seq: record.seq,
    leafIndex,
    benefit: record.benefit,
    applicationId: record.applicationId,
    assessmentDate: record.assessmentDate,
    ruleset: record.ruleset,
    engine: { name: ENGINE.name, version: record.engineVersion },
    inputs: record.inputs,
    outcome: record.outcome,
    explanation: record.explanation,
    recordedAt: record.createdAt,
    purgedAt: record.purgedAt,
    prevHash: record.prevHash,
    recordHash: record.recordHash,
  };
}

/** GET /v1/decisions/:id and POST /v1/decisions/:id/replay; every read is itself recorded. */
export function registerDecisions(app: FastifyInstance, context: ServiceContext): void {
  const { db } = context;
  const replays = new ReplayRuleSets(db, context.ruleSets);
  const readers = ['caseworker', 'auditor'] as const;

  /**
   * A decision is served only after its record is checked against the log: its content must give
   * its leaf and its leaf must be in the newest signed tree. One that fails is refused, and the
   * record's integrity alarm is raised.
   */
  async function verified(record: DecisionRecord) {
    const check = await fromStore(() => checkAgainstLog(db, record, context.log.verifier));
    if (check.state === 'altered') {
      context.integrity.failed({ seq: 0, id: record.id, message: check.message });
      throw new EntitleError(
        'ENTITLE_RECORD_INTEGRITY',
        'this decision failed its integrity check: what is stored no longer matches the verifiable log',
      );
    }
    return check;
  }

  // Decisions recorded whose callers never had the answer: a caller that retried without an
  // Idempotency-Key holds a second decision, and this finds the first.
  app.get(
    '/v1/decisions/unacknowledged',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            since: { type: 'string', format: 'date-time' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
      },
      config: { roles: [...readers, 'operator'] },
    },
    async (request) => {
      const { since, limit } = request.query as { since?: string; limit: number };
      const from = since ? new Date(since).toISOString() : new Date(0).toISOString();
      return { decisions: await fromStore(() => unacknowledgedDecisions(db, from, limit)) };
    },
  );

  app.get('/v1/decisions/:id', { schema: { params: idParams }, config: { roles: readers } }, async (request) => {
    const { id } = request.params as { id: string };
    const record = await fromStore(() => readDecision(db, id, readerOf(request), 'read'));
    if (!record) throw new EntitleError('ENTITLE_NOT_FOUND', 'there is no decision with this id');
    const check = await verified(record);
    return stored(record, check.state === 'proven' ? check.leafIndex : null);
  });

  // The decision with the proof that it is in the log as issued, checkable offline with the log's
  // public key ("entitle receipt verify").
  app.get(
    '/v1/decisions/:id/receipt',
    { schema: { params: idParams }, config: { roles: readers } },
    async (request) => {
      const { id } = request.params as { id: string };
      const record = await fromStore(() => readDecision(db, id, readerOf(request), 'receipt'));
      if (!record) throw new EntitleError('ENTITLE_NOT_FOUND', 'there is no decision with this id');
      // receiptFor checks the decision against the log as verified() does, once.
      const result = await fromStore(() => receiptFor(db, record, context.log.verifier));
      if (result.state === 'altered') {
        context.integrity.failed({ seq: 0, id: record.id, message: result.message });
        throw new EntitleError('ENTITLE_RECORD_INTEGRITY', 'this decision failed its integrity check');
      }
      if (result.state === 'pending')
        throw new EntitleError('ENTITLE_RECEIPT_PENDING', 'the decision is recorded and joins the log within seconds');
      return result.receipt;
    },
  );

  // Who read a decision, and when: for auditors answering "who has seen my data?".
  app.get(
    '/v1/decisions/:id/reads',
    { schema: { params: idParams }, config: { roles: ['auditor'] } },
    async (request) => {
      const { id } = request.params as { id: string };
      return { decisionId: id, reads: await fromStore(() => readsOf(db, id)) };
    },
  );

  app.post(
    '/v1/decisions/:id/replay',
    { schema: { params: idParams }, config: { roles: readers, report: true } },
    async (request) => {
      const { id } = request.params as { id: string };
      const record = await fromStore(() => readDecision(db, id, readerOf(request), 'replay'));
      if (!record) throw new EntitleError('ENTITLE_NOT_FOUND', 'there is no decision with this id');
      await verified(record);
      if (record.inputs === null) {
        context.metrics.replays.inc({ result: 'purged' });
        throw new EntitleError(
          'ENTITLE_DECISION_PURGED',
          `the inputs of this decision were removed on ${record.purgedAt ?? 'an earlier date'}`,
        );
      }
      const ruleSet = await replays.byHash(record.ruleset.hash);
      let replayed: { outcome: unknown; explanation: readonly string[] } | { error: string };
      try {
        const assessment = ruleSet.assess(record.inputs, 'reasons');
        replayed = { outcome: assessment.outcome, explanation: assessment.explanation };
      } catch (error) {
        replayed = { error: error instanceof EntitleError ? error.code : 'ENTITLE_INTERNAL' };
      }
      const recorded = { outcome: record.outcome, explanation: record.explanation };
      const diff = differences(recorded, replayed);
      context.metrics.replays.inc({ result: diff.length === 0 ? 'match' : 'mismatch' });
      return {
        decisionId: record.id,
        match: diff.length === 0,
        ruleset: record.ruleset,
        engine: { recorded: record.engineVersion, current: ENGINE.version },
        recorded,
        replayed,
        differences: diff,
      };
    },
  );
}
