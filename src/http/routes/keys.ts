import type { FastifyInstance } from 'fastify';
import { ROLES } from '../../keys/index.ts';

/** GET /v1/whoami: the key a request was sent with, and the person holding it; for `entitle login`. */
export function registerKeys(app: FastifyInstance): void {
  app.get('/v1/whoami', { config: { roles: ROLES } }, (request) => {
    const key = request.apiKey!;
    return { key: key.name, person: key.person, roles: key.roles };
  });
}
