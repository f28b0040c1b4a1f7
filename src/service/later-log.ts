import type { FastifyBaseLogger } from 'fastify';
import type { LiveLog } from '../live/index.ts';

/**
 * A log for the parts built before the app (live releases, flags, degradation): it forwards to the
 * app's logger once `attach` is given it, so every line goes through the app's redaction. Before
 * then there is nothing to write to, and lines are dropped, as they always were at start-up.
 */
export function laterLog(): { readonly log: LiveLog; readonly attach: (log: FastifyBaseLogger) => void } {
  let target: FastifyBaseLogger | undefined;
  return {
    log: {
      info: (fields, message) => target?.info(fields, message),
      warn: (fields, message) => target?.warn(fields, message),
      error: (fields, message) => target?.error(fields, message),
    },
    attach: (log) => {
      target = log;
    },
  };
}
