import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  checkAgainstLog,
  readDecision,
  readsOf,
  receiptFor,
  unacknowledgedDecisions,
  type DecisionRecord,
  type Reader,
} from '../../decisions/index.ts';
import { EntitleError } from '../../errors/index.ts';
import { defaultReplaySince, replayRecord, ReplayRuleSets, replaySample } from '../../replay/index.ts';
import { fromStore } from '../../store/index.ts';
import { ENGINE, parseIsoDate } from '../../rules/index.ts';
import { answerWithProgress } from '../progress-stream.ts';
import { noBodyIsEmpty } from '../request-guard.ts';
import type { ServiceContext } from '../context.ts';

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } } as const;

function readerOf(request: FastifyRequest): Reader {
  return { keyId: request.apiKey!.id, keyName: request.apiKey!.name };
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
    const check = await fromStore(() => checkAgainstLog(db, record, context.log.verifiers));
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
      const result = await fromStore(() => receiptFor(db, record, context.log.verifiers));
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
        context.metrics.replays.inc({ result: 'purged', source: 'request' });
        throw new EntitleError(
          'ENTITLE_DECISION_PURGED',
          `the inputs of this decision were removed on ${record.purgedAt ?? 'an earlier date'}`,
        );
      }
      const ruleSet = await replays.byHash(record.ruleset.hash);
      const { recorded, replayed, differences: diff } = replayRecord(record, ruleSet);
      context.metrics.replays.inc({ result: diff.length === 0 ? 'match' : 'mismatch', source: 'request' });
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

  // A stratified sample of recorded decisions made again with this build: how a new image is
  // checked against what the service has decided (entitle replay --sample N). A line a second
  // with Accept: application/x-ndjson; a record of the check in the audit chain.
  app.post(
    '/v1/replays',
    {
      config: { roles: REPLAYERS, report: true },
      preValidation: noBodyIsEmpty,
      schema: { body: replaySchemas.sample },
    },
    async (request, reply) => {
      const input = (request.body ?? {}) as { sample?: number; since?: string };
      const since = input.since ?? defaultReplaySince();
      if (parseIsoDate(since) === undefined)
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'since is not a date', [
          { field: 'since', message: 'give a date such as 2026-11-01' },
        ]);
      return answerWithProgress(request, reply, (progress) =>
        replaySample(db, replays, { sample: input.sample ?? 1000, since, actor: request.apiKey!.person }, progress),
      );
    },
  );
}

/** Who may run the replay check: the pipeline's operator key, and auditors. */
export const REPLAYERS = ['operator', 'auditor'] as const;

export const replaySchemas = {
  sample: {
    type: 'object',
    additionalProperties: false,
    properties: {
      sample: {
        type: 'integer',
        minimum: 1,
        maximum: 100_000,
        description:
          'about how many decisions to replay, spread over every benefit, rule-set version and outcome (default 1000)',
      },
      since: {
        type: 'string',
        maxLength: 10,
        description: 'only decisions recorded on or after this date, YYYY-MM-DD (default 30 days ago)',
      },
    },
  },
} as const;
