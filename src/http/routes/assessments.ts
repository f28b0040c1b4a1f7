import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import {
  decisionForKey,
  DecisionInDoubt,
  DuplicateSubmission,
  idempotencyClaim,
  readDecision,
  type DecisionRecord,
  type IdempotencyClaim,
  checkAgainstLog,
} from '../../decisions/index.ts';
import { EntitleError } from '../../errors/index.ts';
import type { Route } from '../../live/index.ts';
import { ENGINE, type Assessment } from '../../rules/index.ts';
import type { ServiceContext } from '../context.ts';

function outcomeLabel(error: EntitleError): string {
  return error.code === 'ENTITLE_PARAMETER_UNCONFIRMED' || error.code === 'ENTITLE_PARAMETER_NO_VALUE'
    ? 'cannot_assess'
    : 'invalid_input';
}

/** The answer to an assessment, from the record: the same whether just made or sent again. */
function answerOf(record: DecisionRecord) {
  return {
    decisionId: record.id,
    benefit: record.benefit,
    applicationId: record.applicationId,
    assessmentDate: record.assessmentDate,
    ruleset: record.ruleset,
    engine: { name: ENGINE.name, version: record.engineVersion },
    outcome: record.outcome,
    explanation: record.explanation,
    recordedAt: record.createdAt,
    recordHash: record.recordHash,
  };
}

const querystring = {
  type: 'object',
  properties: { explain: { enum: ['reasons', 'trace'] } },
  additionalProperties: false,
} as const;

/**
 * POST /v1/assessments: assess, record durably, and only then answer. With an Idempotency-Key, a
 * retry of the same request gets the original decision back (201, Idempotent-Replayed: true) and
 * nothing new is recorded, whichever instance it reaches and however many arrive at once.
 */
export function registerAssessments(app: FastifyInstance, context: ServiceContext): void {
  const { rules, writer, metrics, failures, db, capacity, flags } = context;
  /** Same-instance retries of a request still being decided wait for it rather than deciding twice. */
  const inFlight = new Map<string, Promise<unknown>>();

  async function replayed(request: FastifyRequest, reply: FastifyReply, decisionId: string) {
    const record = await readDecision(
      db,
      decisionId,
      { keyId: request.apiKey!.id, keyName: request.apiKey!.name },
      'read',
    ).catch(() => {
      throw new EntitleError('ENTITLE_STORE_UNAVAILABLE', 'the decision store could not be reached');
    });
    if (!record)
      throw new EntitleError('ENTITLE_STORE_UNAVAILABLE', 'the decision for this Idempotency-Key could not be read');
    // Served again only as it was recorded: checked against the log like any read.
    const check = await checkAgainstLog(db, record, context.log.verifier).catch(() => {
      throw new EntitleError('ENTITLE_STORE_UNAVAILABLE', 'the decision store could not be reached');
    });
    if (check.state === 'altered') {
      context.integrity.failed({ seq: 0, id: record.id, message: check.message });
      throw new EntitleError(
        'ENTITLE_RECORD_INTEGRITY',
        'the decision recorded for this Idempotency-Key failed its integrity check',
      );
    }
    metrics.idempotentReplays.inc();
    reply.code(201).header('location', `/v1/decisions/${record.id}`).header('idempotent-replayed', 'true');
    return answerOf(record);
  }

  async function decide(request: FastifyRequest, reply: FastifyReply, claim: IdempotencyClaim | undefined) {
    const body = request.body as { benefit?: unknown; applicationId?: unknown } | null | undefined;
    if (claim) {
      const existing = await decisionForKey(db, claim).catch((error: unknown) => {
        if (error instanceof EntitleError) throw error;
        throw new EntitleError(
          'ENTITLE_STORE_UNAVAILABLE',
          'the decision store could not be reached, so no decision was made',
        );
      });
      if (existing) return replayed(request, reply, existing);
    }
    const benefit = typeof body?.benefit === 'string' ? body.benefit : undefined;
    const applicationId = body?.applicationId;
    // The canary needs the application reference before validation; a missing or malformed one
    // routes to the active version, which then refuses it with the field named.
    const route: Route | undefined =
      benefit === undefined ? undefined : rules.route(benefit, typeof applicationId === 'string' ? applicationId : '');
    if (!route) {
      metrics.assessments.inc({ benefit: 'unknown', outcome: 'invalid_input', ruleset: 'none' });
      throw new EntitleError('ENTITLE_BENEFIT_UNKNOWN', 'no rule set is loaded for this benefit', [
        { field: 'benefit', message: `enter one of: ${[...rules.active.keys()].join(', ')}` },
      ]);
    }
    const ruleSet = route.ruleSet;
    const wantsTrace = (request.query as { explain?: string }).explain === 'trace';
    let traceOmitted: string | undefined;
    if (wantsTrace) {
      if (capacity.degradation.dropsAutomatically('explanation-traces'))
        traceOmitted = 'the service is under high demand: traces are paused, the reasons are complete';
      else if (!(typeof applicationId === 'string' && (await flags.isOnFor('explanation-traces', applicationId))))
        traceOmitted = 'traces are not switched on for this application (flag explanation-traces)';
      if (traceOmitted) capacity.degradation.shed('explanation-traces');
    }
    let assessment: Assessment;
    try {
      assessment = ruleSet.assess(body, wantsTrace && !traceOmitted ? 'trace' : 'reasons');
    } catch (error) {
      if (error instanceof EntitleError && error.status < 500)
        metrics.assessments.inc({ benefit: ruleSet.benefit, outcome: outcomeLabel(error), ruleset: ruleSet.hash });
      else
        failures.record({
          at: new Date().toISOString(),
          benefit: ruleSet.benefit,
          applicationId: typeof applicationId === 'string' ? applicationId.slice(0, 200) : null,
          code: error instanceof EntitleError ? error.code : 'ENTITLE_INTERNAL',
        });
      throw error;
    }
    const id = uuidv7();
    let record;
    try {
      record = await writer.write(
        {
          id,
          benefit: assessment.benefit,
          applicationId: assessment.applicationId,
          assessmentDate: assessment.assessmentDate,
          ruleset: assessment.ruleset,
          engineVersion: assessment.engine.version,
          inputs: body,
          outcome: assessment.outcome,
          explanation: assessment.explanation,
          ...(route.assignment ? { assignment: route.assignment } : {}),
        },
        ruleSet.program.bundle,
        claim,
      );
    } catch (error) {
      if (error instanceof DuplicateSubmission) {
        // Another instance recorded this key first: its decision is the answer.
        const existing = await decisionForKey(db, error.claim).catch(() => undefined);
        if (existing) return replayed(request, reply, existing);
      }
      metrics.assessments.inc({ benefit: ruleSet.benefit, outcome: 'not_recorded', ruleset: ruleSet.hash });
      failures.record({
        at: new Date().toISOString(),
        benefit: ruleSet.benefit,
        applicationId: assessment.applicationId,
        code: error instanceof DecisionInDoubt ? 'ENTITLE_DECISION_IN_DOUBT' : 'ENTITLE_STORE_UNAVAILABLE',
      });
      if (error instanceof DecisionInDoubt) {
        // The writer finds out whether it committed, and if it did, counts and lists it
        // (GET /v1/decisions/unacknowledged).
        request.log.warn(
          { event: 'decision_in_doubt', decisionId: id },
          'the database stopped answering while a decision was committed; 503 sent with its id',
        );
        reply.header('location', `/v1/decisions/${id}`).header('retry-after', String(error.retryAfterSeconds));
        throw new EntitleError(
          'ENTITLE_DECISION_IN_DOUBT',
          `the database stopped answering while decision ${id} was being recorded`,
          [],
          { decisionId: id },
        );
      }
      request.log.warn(
        { event: 'decision_not_recorded', cause: (error as Error).name },
        'a decision could not be recorded; none was returned',
      );
      throw new EntitleError(
        'ENTITLE_STORE_UNAVAILABLE',
        'the decision could not be recorded, so no decision was made',
      );
    }
    metrics.assessments.inc({
      benefit: ruleSet.benefit,
      outcome: assessment.outcome.entitled ? 'entitled' : 'not_entitled',
      ruleset: ruleSet.hash,
    });
    // Canary applications were decided by the candidate: they are compared whatever the pressure.
    if (route.byCandidate || capacity.degradation.allows('shadow-evaluation'))
      rules.compareLater(route, body, assessment.applicationId);
    else if (route.test) capacity.degradation.shed('shadow-evaluation');
    // A caller that went before the answer reached it may send the request again and get a
    // second decision: the first is counted and listed, so it can be found.
    const recordedId = record.id;
    const lost = () => void (reply.raw.writableFinished || writer.acknowledgementLost(recordedId));
    if (reply.raw.destroyed) lost();
    else reply.raw.once('close', lost);
    reply.code(201).header('location', `/v1/decisions/${record.id}`);
    return {
      ...answerOf(record),
      ...(assessment.trace ? { trace: assessment.trace } : {}),
      ...(traceOmitted ? { traceOmitted } : {}),
    };
  }

  app.post('/v1/assessments', { config: { roles: ['assessor'] }, schema: { querystring } }, async (request, reply) => {
    const claim = idempotencyClaim(request.headers['idempotency-key'], request.apiKey!.id, request.body);
    if (!claim) return decide(request, reply, undefined);
    const earlier = inFlight.get(claim.keyHash);
    if (earlier) {
      // The first is still being decided here: wait for it, then answer from its record.
      await earlier.catch(() => undefined);
      return decide(request, reply, claim);
    }
    const work = decide(request, reply, claim);
    inFlight.set(claim.keyHash, work);
    try {
      return await work;
    } finally {
      inFlight.delete(claim.keyHash);
    }
  });
}
