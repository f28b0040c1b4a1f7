import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  AUDIENCES,
  buildTimeline,
  fillTemplate,
  incidentImpact,
  resolveIncident,
  reviewMarkdown,
  timelineMarkdown,
  type Audience,
} from '../../incident-reports/index.ts';
import {
  acknowledgeIncident,
  assignRole,
  declareIncident,
  getIncident,
  INCIDENT_ROLES,
  incidentEntries,
  listIncidents,
  overdue,
  PRIORITIES,
  receiveAlertGroup,
  recordEntry,
  STATUSES,
  updateIncident,
  type AlertGroup,
} from '../../incidents/index.ts';
import type { Role } from '../../keys/index.ts';
import { SLOS } from '../../slos/index.ts';
import type { ServiceContext } from '../context.ts';

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9-]{1,20}$' } },
} as const;
const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;
const names = { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 64 } } as const;
const journeys = { type: 'array', maxItems: 10, items: { enum: SLOS.map((s) => s.id) } } as const;

/** Request bodies, validated by Fastify and published in the OpenAPI document. */
export const incidentSchemas = {
  declare: {
    type: 'object',
    required: ['title', 'priority'],
    additionalProperties: false,
    properties: {
      title: text(200),
      priority: { enum: [...PRIORITIES] },
      citizenMessage: {
        ...text(1_000),
        description: 'shown on the public status page: plain English, no promised fix time',
      },
      text: { ...text(5_000), description: 'what is known so far' },
      benefits: names,
      journeys,
      startedAt: {
        type: 'string',
        maxLength: 40,
        description: 'when citizens were first affected (default now), ISO 8601',
      },
      lead: text(200),
      communicationsLead: text(200),
      runbook: text(500),
    },
  },
  update: {
    type: 'object',
    additionalProperties: false,
    properties: {
      text: text(5_000),
      status: { enum: [...STATUSES] },
      priority: { enum: [...PRIORITIES] },
      citizenMessage: { type: 'string', maxLength: 1_000, description: 'empty removes it from the status page' },
      runbook: text(500),
      journeys,
      benefits: names,
      startedAt: { type: 'string', maxLength: 40 },
      releaseIds: {
        type: 'array',
        maxItems: 20,
        items: { type: 'string', maxLength: 40 },
        description: 'releases involved: their decisions join the impact',
      },
    },
  },
  assign: {
    type: 'object',
    required: ['role', 'person'],
    additionalProperties: false,
    properties: { role: { enum: [...INCIDENT_ROLES] }, person: text(200) },
  },
  alertGroup: {
    type: 'object',
    required: ['status', 'groupKey', 'alerts'],
    properties: {
      status: { enum: ['firing', 'resolved'] },
      groupKey: { type: 'string', minLength: 1, maxLength: 2_000 },
      groupLabels: { type: 'object', additionalProperties: { type: 'string', maxLength: 1_000 } },
      commonLabels: { type: 'object', additionalProperties: { type: 'string', maxLength: 1_000 } },
      commonAnnotations: { type: 'object', additionalProperties: { type: 'string', maxLength: 5_000 } },
      alerts: {
        type: 'array',
        maxItems: 500,
        items: {
          type: 'object',
          required: ['status', 'labels', 'startsAt'],
          properties: {
            status: { enum: ['firing', 'resolved'] },
            labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 1_000 } },
            annotations: { type: 'object', additionalProperties: { type: 'string', maxLength: 5_000 } },
            startsAt: { type: 'string', format: 'date-time' },
            endsAt: { type: 'string', format: 'date-time' },
            fingerprint: { type: 'string', maxLength: 64 },
          },
        },
      },
    },
  },
} as const;

const OPERATORS: readonly Role[] = ['operator'];
const READERS: readonly Role[] = ['operator', 'auditor', 'approver', 'policy-author'];

/**
 * The incidents API: the same steps as `entitle incident`, each recorded with the calling key's
 * name as the actor, and the webhook Alertmanager posts its notifications to.
 */
export function registerIncidents(app: FastifyInstance, context: ServiceContext): void {
  const { db } = context;
  const id = (request: FastifyRequest) => (request.params as { id: string }).id;
  // The person holding the key: who acts, in the record and for the two-person rule.
  const actor = (request: FastifyRequest) => request.apiKey!.person;
  const markdownWanted = (request: FastifyRequest) =>
    (request.query as { format?: string }).format === 'markdown' ||
    (request.headers.accept ?? '').includes('text/markdown');

  app.get(
    '/v1/incidents',
    {
      config: { roles: READERS },
      schema: {
        querystring: {
          type: 'object',
          properties: {
            open: { type: 'boolean', description: 'only incidents not yet resolved' },
            unreviewed: { type: 'boolean', description: 'only incidents not yet reviewed (open or awaiting review)' },
          },
        },
      },
    },
    async (request) => {
      const now = new Date();
      const query = request.query as { open?: boolean; unreviewed?: boolean };
      const incidents = await listIncidents(db, {
        open: query.open === true,
        unreviewed: query.unreviewed === true,
        limit: 10_000,
      });
      return { incidents: incidents.map((incident) => ({ ...incident, overdue: overdue(incident, now) })) };
    },
  );

  app.post(
    '/v1/incidents',
    { config: { roles: OPERATORS }, schema: { body: incidentSchemas.declare } },
    async (request, reply) => {
      const body = request.body as {
        title: string;
        priority: string;
        citizenMessage?: string;
        text?: string;
        benefits?: string[];
        journeys?: string[];
        startedAt?: string;
        lead?: string;
        communicationsLead?: string;
        runbook?: string;
      };
      const { incident } = await declareIncident(db, { ...body, actor: actor(request) });
      reply.code(201).header('location', `/v1/incidents/${incident.id}`);
      return { incident };
    },
  );

  app.get('/v1/incidents/:id', { config: { roles: READERS }, schema: { params: idParams } }, async (request) => {
    const incident = await getIncident(db, id(request));
    return { incident, overdue: overdue(incident), entries: await incidentEntries(db, incident.id) };
  });

  app.post(
    '/v1/incidents/:id/updates',
    { config: { roles: OPERATORS }, schema: { params: idParams, body: incidentSchemas.update } },
    async (request) => {
      const change = { ...(request.body as { status?: string }), actor: actor(request) };
      return {
        incident:
          change.status === 'resolved'
            ? await resolveIncident(db, id(request), change)
            : await updateIncident(db, id(request), change),
      };
    },
  );

  app.post(
    '/v1/incidents/:id/roles',
    { config: { roles: OPERATORS }, schema: { params: idParams, body: incidentSchemas.assign } },
    async (request) => {
      const body = request.body as { role: string; person: string };
      return { incident: await assignRole(db, id(request), { ...body, actor: actor(request) }) };
    },
  );

  app.post(
    '/v1/incidents/:id/acknowledge',
    { config: { roles: OPERATORS }, schema: { params: idParams } },
    async (request) => {
      return { incident: await acknowledgeIncident(db, id(request), actor(request)) };
    },
  );

  app.get(
    '/v1/incidents/:id/timeline',
    { config: { roles: READERS, report: true }, schema: { params: idParams } },
    async (request, reply) => {
      const timeline = await buildTimeline(db, await getIncident(db, id(request)));
      if (markdownWanted(request)) return reply.type('text/markdown; charset=utf-8').send(timelineMarkdown(timeline));
      return timeline;
    },
  );

  // The impact lists application references to recontact or correct: operators only, and the
  // listing of a worklist is audited under their name.
  app.get(
    '/v1/incidents/:id/impact',
    { config: { roles: OPERATORS, report: true }, schema: { params: idParams } },
    async (request) => {
      return incidentImpact(db, await getIncident(db, id(request)), actor(request));
    },
  );

  app.get(
    '/v1/incidents/:id/comms',
    {
      config: { roles: OPERATORS, report: true },
      schema: {
        params: idParams,
        querystring: { type: 'object', required: ['audience'], properties: { audience: { enum: [...AUDIENCES] } } },
      },
    },
    async (request) => {
      const incident = await getIncident(db, id(request));
      const audience = (request.query as { audience: Audience }).audience;
      const impact =
        audience === 'citizens' && !incident.resolvedAt ? null : await incidentImpact(db, incident, actor(request));
      return fillTemplate(audience, incident, await incidentEntries(db, incident.id), impact);
    },
  );

  const review = async (request: FastifyRequest) => {
    const incident = await getIncident(db, id(request));
    const [entries, impact, timeline] = await Promise.all([
      incidentEntries(db, incident.id),
      incidentImpact(db, incident, actor(request)),
      buildTimeline(db, incident),
    ]);
    return { incident, text: reviewMarkdown(incident, entries, impact, timeline) };
  };
  app.get(
    '/v1/incidents/:id/review',
    { config: { roles: OPERATORS, report: true }, schema: { params: idParams } },
    async (request, reply) => reply.type('text/markdown; charset=utf-8').send((await review(request)).text),
  );
  // Drafting the review is an entry on the incident, by the person drafting it.
  app.post(
    '/v1/incidents/:id/review',
    { config: { roles: OPERATORS, report: true }, schema: { params: idParams } },
    async (request, reply) => {
      const { incident, text } = await review(request);
      await recordEntry(db, incident.id, {
        kind: 'review',
        actor: actor(request),
        text: 'Post-incident review drafted',
      });
      return reply.type('text/markdown; charset=utf-8').send(text);
    },
  );

  // Alertmanager's webhook receiver: one incident per alert group, deduplicated.
  app.post(
    '/v1/alerts/alertmanager',
    {
      config: { roles: ['alertmanager', 'operator'] },
      schema: { body: incidentSchemas.alertGroup },
      bodyLimit: 1024 * 1024,
    },
    async (request) => {
      const result = await receiveAlertGroup(db, request.body as AlertGroup);
      request.log.info(
        { event: 'alert_group_received', incident: result.incident?.id, created: result.created, added: result.added },
        'alert group recorded',
      );
      return { incident: result.incident?.id ?? null, created: result.created, added: result.added };
    },
  );
}
