import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  decisionForKey,
  DecisionInDoubt,
  draftOf,
  DuplicateSubmission,
  idempotencyClaim,
  readDecision,
  type DecisionRecord,
  type IdempotencyClaim,
  checkAgainstLog,
} from '../../decisions/index.ts';
import { EntitleError } from '../../errors/index.ts';
import type { Route } from '../../live/index.ts';
import { ENGINE } from '../../rules/index.ts';
import { benefitsOf } from './benefits.ts';
import type { ServiceContext } from '../context.ts';

function outcomeLabel(error: EntitleError): string {
  return error.code === 'ENTITLE_PARAMETER_UNCONFIRMED' || error.code === 'ENTITLE_PARAMETER_NO_VALUE'
    ? 'cannot_assess'
    : 'invalid_input';
}

/** The claim one benefit's decision makes on a request's Idempotency-Key. */
function claimFor(claim: IdempotencyClaim, benefit: string): IdempotencyClaim {
  return {
    keyHash: createHash('sha256').update(claim.keyHash).update('\u0000').update(benefit).digest('hex'),
    requestHash: claim.requestHash,
  };
}

/** The most problems one answer lists, as for one benefit (the rest are counted). */
const MAX_PROBLEMS = 50;

/**
 * One error for a household several benefits refused: every problem with the request, each listed
 * once (a field one benefit requires says which), an unknown benefit among them; otherwise the
 * first refusal, saying which benefit made it.
 */
function combinedError(errors: readonly { benefit: string; error: unknown }[]): unknown {
  const invalid = errors.filter(
    (e) =>
      e.error instanceof EntitleError &&
      (e.error.code === 'ENTITLE_INPUT_INVALID' || e.error.code === 'ENTITLE_BENEFIT_UNKNOWN'),
  ) as { benefit: string; error: EntitleError }[];
  if (invalid.length > 0) {
    // One entry per field and message; "is required" is said once, naming each benefit that needs it.
    const merged = new Map<string, { field?: string; message: string; benefits: string[] }>();
    for (const { benefit, error } of invalid)
      for (const p of error.problems) {
        const key = `${p.field ?? ''}\u0000${p.message}`;
        const entry = merged.get(key) ?? {
          ...(p.field !== undefined ? { field: p.field } : {}),
          message: p.message,
          benefits: [],
        };
        entry.benefits.push(benefit);
        merged.set(key, entry);
      }
    const all = [...merged.values()]
      .filter((p) => !/^and \d+ more problems?/.test(p.message))
      .map(({ benefits, ...p }) =>
        p.message.startsWith('is required')
          ? { ...p, message: `${p.message} (${benefits.join(' and ')} reads it)` }
          : p,
      );
    const problems = all.slice(0, MAX_PROBLEMS);
    if (all.length > problems.length)
      problems.push({
        message: `and ${all.length - problems.length} more: correct these and send the assessment again`,
      });
    return new EntitleError(
      'ENTITLE_INPUT_INVALID',
      `the assessment input has ${all.length} problem${all.length === 1 ? '' : 's'}`,
      problems,
    );
  }
  const { benefit, error } = errors[0]!;
  if (!(error instanceof EntitleError)) return error;
  return new EntitleError(
    error.code,
    `${benefit}: ${error.message}; no decision was recorded for any benefit`,
    error.problems.map((p) => ({ ...p, message: `${benefit}: ${p.message}` })),
    error.extensions,
  );
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

  async function replayed(
    request: FastifyRequest,
    reply: FastifyReply,
    decisionIds: readonly (string | undefined)[],
    several: boolean,
  ) {
    const answers = [];
    for (const decisionId of decisionIds) {
      const record = await readDecision(
        db,
        decisionId!,
        { keyId: request.apiKey!.id, keyName: request.apiKey!.name },
        'read',
      ).catch(() => {
        throw new EntitleError('ENTITLE_STORE_UNAVAILABLE', 'the decision store could not be reached');
      });
      if (!record)
        throw new EntitleError('ENTITLE_STORE_UNAVAILABLE', 'the decision for this Idempotency-Key could not be read');
      // Served again only as it was recorded: checked against the log like any read.
      const check = await checkAgainstLog(db, record, context.log.verifiers).catch(() => {
        throw new EntitleError('ENTITLE_STORE_UNAVAILABLE', 'the decision store could not be reached');
      });
      if (check.state === 'altered') {
        context.integrity.failed({ seq: 0, id: record.id, message: check.message });
        throw new EntitleError(
          'ENTITLE_RECORD_INTEGRITY',
          'the decision recorded for this Idempotency-Key failed its integrity check',
        );
      }
      answers.push(answerOf(record));
    }
    metrics.idempotentReplays.inc();
    reply.code(201).header('idempotent-replayed', 'true');
    if (several) return { decisions: answers };
    reply.header('location', `/v1/decisions/${answers[0]!.decisionId}`);
    return answers[0];
  }

  /** Assesses one benefit's input: the version that decides, and its assessment, or the error. */
  async function assessOne(request: FastifyRequest, benefit: string | undefined, input: unknown, field: string) {
    const applicationId = (input as { applicationId?: unknown } | null)?.applicationId;
    // The canary needs the application reference before validation; a missing or malformed one
    // routes to the active version, which then refuses it with the field named.
    const route: Route | undefined =
      benefit === undefined ? undefined : rules.route(benefit, typeof applicationId === 'string' ? applicationId : '');
    if (!route) {
      metrics.assessments.inc({ benefit: 'unknown', outcome: 'invalid_input', ruleset: 'none' });
      throw new EntitleError('ENTITLE_BENEFIT_UNKNOWN', 'no rule set is loaded for this benefit', [
        { field, message: `enter one of: ${[...rules.active.keys()].join(', ')}` },
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
    try {
      const assessment = ruleSet.assess(input, wantsTrace && !traceOmitted ? 'trace' : 'reasons');
      return { route, assessment, traceOmitted };
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
  }

  /**
   * Records the decisions together (one transaction: all or none) and answers with them; a
   * retry whose key already names them gets them back.
   */
  async function recordAll(
    request: FastifyRequest,
    reply: FastifyReply,
    made: Awaited<ReturnType<typeof assessOne>>[],
    inputs: readonly unknown[],
    claims: readonly (IdempotencyClaim | undefined)[],
    several: boolean,
  ) {
    const drafts = made.map(({ route, assessment }, i) => ({
      draft: draftOf(assessment, inputs[i], route.assignment),
      bundle: route.ruleSet.program.bundle,
      claim: claims[i],
    }));
    const settled = await Promise.allSettled(writer.writeAll(drafts));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      const error = failed.reason as unknown;
      if (error instanceof DuplicateSubmission) {
        // Another instance recorded this key first: its decisions are the answer.
        const existing = await Promise.all(claims.map((c) => decisionForKey(db, c!).catch(() => undefined)));
        if (existing.every((id) => id !== undefined)) return replayed(request, reply, existing, several);
      }
      for (const { route, assessment } of made) {
        metrics.assessments.inc({
          benefit: route.ruleSet.benefit,
          outcome: 'not_recorded',
          ruleset: route.ruleSet.hash,
        });
        failures.record({
          at: new Date().toISOString(),
          benefit: route.ruleSet.benefit,
          applicationId: assessment.applicationId,
          code: error instanceof DecisionInDoubt ? 'ENTITLE_DECISION_IN_DOUBT' : 'ENTITLE_STORE_UNAVAILABLE',
        });
      }
      if (error instanceof DecisionInDoubt) {
        const ids = drafts.map((d) => d.draft.id);
        // The writer finds out whether they committed, and if they did, counts and lists them
        // (GET /v1/decisions/unacknowledged).
        request.log.warn(
          { event: 'decision_in_doubt', decisionId: ids[0], decisions: ids.length },
          'the database stopped answering while a decision was committed; 503 sent with its id',
        );
        reply.header('location', `/v1/decisions/${ids[0]}`).header('retry-after', String(error.retryAfterSeconds));
        throw new EntitleError(
          'ENTITLE_DECISION_IN_DOUBT',
          `the database stopped answering while decision ${ids.join(' and ')} ${ids.length === 1 ? 'was' : 'were'} being recorded`,
          [],
          { decisionId: ids[0]!, ...(ids.length > 1 ? { decisionIds: ids.join(',') } : {}) },
        );
      }
      request.log.warn(
        { event: 'decision_not_recorded', cause: (error as Error).name },
        'a decision could not be recorded; none was returned',
      );
      throw new EntitleError(
        'ENTITLE_STORE_UNAVAILABLE',
        `the decision${made.length === 1 ? '' : 's'} could not be recorded, so no decision was made`,
      );
    }
    const records = settled.map((s) => (s as PromiseFulfilledResult<DecisionRecord>).value);
    made.forEach(({ route, assessment }, i) => {
      const ruleSet = route.ruleSet;
      metrics.assessments.inc({
        benefit: ruleSet.benefit,
        outcome: assessment.outcome.entitled ? 'entitled' : 'not_entitled',
        ruleset: ruleSet.hash,
      });
      for (const parameter of assessment.outcome.provisionalParameters ?? [])
        metrics.provisionalDecisions.inc({ benefit: ruleSet.benefit, parameter });
      // Canary applications were decided by the candidate: they are compared whatever the pressure.
      if (route.byCandidate || capacity.degradation.allows('shadow-evaluation'))
        rules.compareLater(route, inputs[i], assessment.applicationId);
      else if (route.test) capacity.degradation.shed('shadow-evaluation');
    });
    // A caller that went before the answer reached it may send the request again and get a
    // second decision: the first is counted and listed, so it can be found.
    const lost = () => void (reply.raw.writableFinished || records.forEach((r) => writer.acknowledgementLost(r.id)));
    if (reply.raw.destroyed) lost();
    else reply.raw.once('close', lost);
    const answers = records.map((record, i) => ({
      ...answerOf(record),
      ...(made[i]!.assessment.trace ? { trace: made[i]!.assessment.trace } : {}),
      ...(made[i]!.traceOmitted ? { traceOmitted: made[i]!.traceOmitted } : {}),
    }));
    // A request that named benefits is answered with a list, however many it named.
    if (!several) {
      reply.code(201).header('location', `/v1/decisions/${records[0]!.id}`);
      return answers[0];
    }
    reply.code(201);
    return { decisions: answers };
  }

  async function decide(request: FastifyRequest, reply: FastifyReply, claim: IdempotencyClaim | undefined) {
    const body = request.body as Record<string, unknown> | null | undefined;
    const several = body !== null && typeof body === 'object' && !Array.isArray(body) && 'benefits' in body;
    const benefits = several ? benefitsOf(body) : [typeof body?.benefit === 'string' ? body.benefit : undefined];
    // One claim per decision: a key names every decision its request made.
    const claims = several && claim ? benefits.map((b) => claimFor(claim, b!)) : [claim];
    if (claim) {
      const existing = await Promise.all(
        claims.map((c) =>
          decisionForKey(db, c!).catch((error: unknown) => {
            if (error instanceof EntitleError) throw error;
            throw new EntitleError(
              'ENTITLE_STORE_UNAVAILABLE',
              'the decision store could not be reached, so no decision was made',
            );
          }),
        ),
      );
      if (existing.every((id) => id !== undefined)) return replayed(request, reply, existing, several);
    }
    if (!several) {
      const made = await assessOne(request, benefits[0], body, 'benefit');
      return recordAll(request, reply, [made], [body], claims, false);
    }
    // Several benefits: the same household assessed by each, one decision each, recorded together.
    const rest = Object.fromEntries(Object.entries(body).filter(([key]) => key !== 'benefits'));
    const inputs = benefits.map((benefit) => ({ ...rest, benefit }));
    const outcomes = await Promise.allSettled(
      benefits.map((benefit, i) => assessOne(request, benefit, inputs[i], `benefits[${i}]`)),
    );
    const errors = outcomes.flatMap((o, i) =>
      o.status === 'rejected' ? [{ benefit: benefits[i]!, error: o.reason as unknown }] : [],
    );
    if (errors.length > 0) throw combinedError(errors);
    const made = outcomes.map((o) => (o as PromiseFulfilledResult<Awaited<ReturnType<typeof assessOne>>>).value);
    return recordAll(request, reply, made, inputs, claims, true);
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
