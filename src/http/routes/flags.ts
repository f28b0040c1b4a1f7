import type { FastifyInstance } from 'fastify';
import { DEGRADATION_STEPS } from '../../capacity/index.ts';
import type { ServiceContext } from '../context.ts';

/**
 * GET /v1/flags: the flags as this instance follows them, and what it is dropping under pressure.
 * Changes are made with "entitle flags set" (audited; two people in production), not here.
 */
export function registerFlags(app: FastifyInstance, context: ServiceContext): void {
  const { flags, capacity } = context;
  app.get('/v1/flags', { config: { roles: ['operator', 'auditor', 'approver'] } }, () => ({
    version: flags.version,
    flags: flags.flags,
    degradation: {
      level: capacity.degradation.level,
      automatic: flags.isOn('automatic-degradation'),
      steps: DEGRADATION_STEPS.map((step) => ({
        step,
        available: capacity.degradation.allows(step),
        droppedByPressure: capacity.degradation.dropsAutomatically(step),
      })),
      pressure: capacity.degradation.reading,
    },
    admission: {
      inFlight: capacity.admission.inFlight,
      queued: capacity.admission.queued,
      settings: capacity.admission.settings,
    },
  }));
}
