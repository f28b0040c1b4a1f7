import type { FastifyInstance } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import { EntitleError } from '../../errors/index.ts';
import type { Route } from '../../releases/index.ts';
import type { Assessment } from '../../rules/index.ts';
import type { ServiceContext } from '../context.ts';

function outcomeLabel(error: EntitleError): string {
  return error.code === 'ENTITLE_PARAMETER_UNCONFIRMED' || error.code === 'ENTITLE_PARAMETER_NO_VALUE' ? 'cannot_assess' : 'invalid_input';
}

/** POST /v1/assessments: assess, record durably, and only then answer. */
export function registerAssessments(app: FastifyInstance, context: ServiceContext): void {
  const { rules, writer, metrics, failures } = context;

  app.post('/v1/assessments', { config: { roles: ['assessor'] } }, async (request, reply) => {
    const body = request.body as { benefit?: unknown; applicationId?: unknown } | null | undefined;
    const benefit = typeof body?.benefit === 'string' ? body.benefit : undefined;
    const applicationId = body?.applicationId;
    // The canary needs the application reference before validation; a missing or malformed one
    // routes to the active version, which then refuses it with the field named.
    const route: Route | undefined = benefit === undefined ? undefined : rules.route(benefit, typeof applicationId === 'string' ? applicationId : '');
    if (!route) {
      metrics.assessments.inc({ benefit: 'unknown', outcome: 'invalid_input', ruleset: 'none' });
      throw new EntitleError('ENTITLE_BENEFIT_UNKNOWN', 'no rule set is loaded for this benefit', [{ field: 'benefit', message: `enter one of: ${[...rules.active.keys()].join(', ')}` }]);
    }
    const ruleSet = route.ruleSet;
    let assessment: Assessment;
    try {
      assessment = ruleSet.assess(body, 'reasons');
    } catch (error) {
      if (error instanceof EntitleError && error.status < 500) metrics.assessments.inc({ benefit: ruleSet.benefit, outcome: outcomeLabel(error), ruleset: ruleSet.hash });
      else failures.record({ at: new Date().toISOString(), benefit: ruleSet.benefit, applicationId: typeof applicationId === 'string' ? applicationId.slice(0, 200) : null, code: error instanceof EntitleError ? error.code : 'ENTITLE_INTERNAL' });
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
      );
    } catch (error) {
      metrics.assessments.inc({ benefit: ruleSet.benefit, outcome: 'not_recorded', ruleset: ruleSet.hash });
      failures.record({ at: new Date().toISOString(), benefit: ruleSet.benefit, applicationId: assessment.applicationId, code: 'ENTITLE_STORE_UNAVAILABLE' });
      request.log.warn({ event: 'decision_not_recorded', cause: (error as Error).name }, 'a decision could not be recorded; none was returned');
      throw new EntitleError('ENTITLE_STORE_UNAVAILABLE', 'the decision could not be recorded, so no decision was made');
    }
    metrics.assessments.inc({ benefit: ruleSet.benefit, outcome: assessment.outcome.entitled ? 'entitled' : 'not_entitled', ruleset: ruleSet.hash });
    rules.compareLater(route, body, assessment.applicationId);
    reply.code(201).header('location', `/v1/decisions/${record.id}`);
    return {
      decisionId: record.id,
      benefit: assessment.benefit,
      applicationId: assessment.applicationId,
      assessmentDate: assessment.assessmentDate,
      ruleset: assessment.ruleset,
      engine: assessment.engine,
      outcome: assessment.outcome,
      explanation: assessment.explanation,
      recordedAt: record.createdAt,
      recordHash: record.recordHash,
    };
  });
}
