import { AUDIENCES } from '../incident-reports/index.ts';
import { ROLES, type Role } from '../keys/index.ts';
import type { RuleSet } from '../rules/index.ts';
import { ENGINE } from '../rules/index.ts';
import { flagSchemas } from './routes/flags.ts';
import { incidentSchemas } from './routes/incidents.ts';
import { keySchemas } from './routes/keys.ts';
import { AUDIT_READERS } from './routes/audit.ts';
import { DEPLOY_APPROVERS, DEPLOY_READERS, DEPLOYERS, deploySchemas } from './routes/deploys.ts';
import { FREEZE_READERS, FREEZE_WRITERS, freezeWindowSchemas } from './routes/freeze-windows.ts';
import { releaseSchemas } from './routes/releases.ts';
import { rulesSchemas } from './rules-api/routes.ts';
import { assessmentRequestSchema, severalBenefitsRequestSchema } from './rules-api/household-schema.ts';
import { PURGERS, retentionSchemas } from './routes/retention.ts';
import { SIMULATORS, simulationSchemas } from './routes/simulations.ts';
import { REPLAYERS, replaySchemas } from './routes/decisions.ts';
import { SUBJECT_ERASERS, SUBJECT_READERS, subjectSchemas } from './subjects/routes.ts';

type JsonSchema = Record<string, unknown>;

const problem = { $ref: '#/components/schemas/Problem' };
const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: problem } },
});
const json = (schema: JsonSchema, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
const logParam = {
  name: 'log',
  in: 'query',
  required: false,
  schema: { type: 'string', enum: ['decisions', 'audit'], default: 'decisions' },
};
const roles = (list: readonly string[]) => `Roles: ${list.join(', ')} (admin may do everything).`;

/** The OpenAPI 3.1 document served at /openapi.json. */
export function openApiDocument(ruleSets: readonly RuleSet[]): JsonSchema {
  const requests = {
    ...Object.fromEntries(ruleSets.map((r) => [`Assessment_${r.id}`, assessmentRequestSchema(r)])),
    AssessmentForSeveralBenefits: severalBenefitsRequestSchema(ruleSets),
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Entitle',
      version: ENGINE.version,
      description:
        'Benefit assessments from rules as code. Every decision is recorded, hash-chained and replayable before it is returned.',
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/assessments': {
        post: {
          summary: 'Assess an application and record the decision',
          description: `Responds only after the decision is committed. With benefits (a list) instead of benefit, the same household is assessed for each benefit named and one decision per benefit is recorded, all in one transaction: all are recorded, or none (the error names the benefit that refused). ${roles(['assessor'])}`,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { oneOf: Object.keys(requests).map((k) => ({ $ref: `#/components/schemas/${k}` })) },
              },
            },
          },
          responses: {
            201: json(
              {
                oneOf: [
                  { $ref: '#/components/schemas/Decision' },
                  {
                    type: 'object',
                    required: ['decisions'],
                    properties: { decisions: { type: 'array', items: { $ref: '#/components/schemas/Decision' } } },
                  },
                ],
              },
              'The decision, recorded; for several benefits, {"decisions": [...]} in the order named.',
            ),
            400: problemResponse('The input is not valid: every field at fault is listed.'),
            401: problemResponse('No valid API key.'),
            403: problemResponse('The key may not assess.'),
            413: problemResponse('The body is too large.'),
            422: problemResponse(
              'A rate this decision needs is not confirmed, or the rule set has none for the date: no decision is made.',
            ),
            429: problemResponse('Too many requests for this key; see Retry-After.'),
            503: problemResponse(
              'The decision could not be recorded, so none was made (ENTITLE_STORE_UNAVAILABLE), or the database stopped answering while it was being recorded (ENTITLE_DECISION_IN_DOUBT: decisionId and Location name the decision to check); retry after Retry-After seconds, with the same Idempotency-Key.',
            ),
          },
        },
      },
      '/v1/decisions/unacknowledged': {
        get: {
          summary: 'Decisions recorded whose callers never had the answer',
          description: `The connection closed before the answer was sent (client_gone), or the service answered 503 ENTITLE_DECISION_IN_DOUBT and the decision then committed (deadline). A caller that sent the request again without an Idempotency-Key holds a second decision for the same application. ${roles(['caseworker', 'auditor', 'operator'])}`,
          parameters: [
            {
              name: 'since',
              in: 'query',
              schema: { type: 'string', format: 'date-time' },
              description: 'Noted at or after this time (default: all).',
            },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          ],
          responses: {
            200: json(
              {
                type: 'object',
                properties: {
                  decisions: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        decisionId: { type: 'string', format: 'uuid' },
                        benefit: { type: 'string' },
                        applicationId: { type: 'string' },
                        recordedAt: { type: 'string' },
                        reason: { type: 'string', enum: ['client_gone', 'deadline'] },
                        notedAt: { type: 'string' },
                      },
                    },
                  },
                },
              },
              'The decisions, oldest noted first.',
            ),
            400: problemResponse('since is not a date and time, or limit is out of range.'),
            503: problemResponse('The store is unavailable.'),
          },
        },
      },
      '/v1/decisions/{id}': {
        get: {
          summary: 'A recorded decision with its inputs, outcome and explanation',
          description: `Every read is itself recorded. ${roles(['caseworker', 'auditor'])}`,
          parameters: [idParam],
          responses: {
            200: json({ $ref: '#/components/schemas/StoredDecision' }, 'The decision.'),
            400: problemResponse('The id is not a UUID.'),
            404: problemResponse('No such decision.'),
            500: problemResponse(
              'ENTITLE_RECORD_INTEGRITY: what is stored no longer matches the verifiable log, so it is not served.',
            ),
            503: problemResponse('The store is unavailable.'),
          },
        },
      },
      '/v1/decisions/{id}/receipt': {
        get: {
          summary: 'The decision with the proof that it is in the verifiable log exactly as issued',
          description: `The receipt holds what the record hash covers, the leaf index, the RFC 9162 inclusion proof and the signed checkpoint it leads to; "entitle receipt verify" checks it offline with the log's public key (docs/record.md says how to check it without Entitle). Every read is recorded. ${roles(['caseworker', 'auditor'])}`,
          parameters: [idParam],
          responses: {
            200: json({ $ref: '#/components/schemas/Receipt' }, 'The receipt.'),
            404: problemResponse('No such decision.'),
            500: problemResponse('ENTITLE_RECORD_INTEGRITY: the stored decision no longer matches the log.'),
            503: problemResponse(
              'ENTITLE_RECEIPT_PENDING: recorded, not yet placed in the log (within seconds); or the store is unavailable. See Retry-After.',
            ),
          },
        },
      },
      '/v1/log/checkpoint': {
        get: {
          summary: "The log's newest signed checkpoint (c2sp.org/tlog-checkpoint), as text",
          description:
            'Public: only sizes and hashes. Keep it: any later rewrite of the log below its size is exposed by a consistency proof or "entitle audit verify --checkpoint".',
          security: [],
          parameters: [logParam],
          responses: {
            200: { description: 'The signed note.', content: { 'text/plain': { schema: { type: 'string' } } } },
            503: problemResponse('The log has no checkpoint yet, or the store is unavailable; see Retry-After.'),
          },
        },
      },
      '/v1/log/consistency': {
        get: {
          summary: 'The RFC 9162 proof that the tree of `to` leaves extends the tree of `from` leaves',
          description: 'Public: for witnesses and auditors holding an older checkpoint.',
          security: [],
          parameters: [
            logParam,
            { name: 'from', in: 'query', required: true, schema: { type: 'integer', minimum: 1 } },
            { name: 'to', in: 'query', required: true, schema: { type: 'integer', minimum: 1 } },
          ],
          responses: {
            200: json(
              {
                type: 'object',
                properties: {
                  log: { type: 'string' },
                  from: { type: 'integer' },
                  to: { type: 'integer' },
                  proof: { type: 'array', items: { type: 'string', description: 'base64 SHA-256' } },
                },
              },
              'The proof.',
            ),
            400: problemResponse('The sizes are not in the log: 1 <= from <= to <= the newest checkpoint.'),
            503: problemResponse('The store is unavailable.'),
          },
        },
      },
      '/v1/log/public-key': {
        get: {
          summary: "The log's verifier key (c2sp.org/signed-note), to check checkpoints and receipts",
          security: [],
          responses: { 200: { description: 'The key.', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/v1/decisions/{id}/reads': {
        get: {
          summary: 'Who read a decision, and when',
          description: roles(['auditor']),
          parameters: [idParam],
          responses: {
            200: json(
              {
                type: 'object',
                properties: {
                  decisionId: { type: 'string' },
                  reads: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        keyName: { type: 'string' },
                        action: { type: 'string' },
                        readAt: { type: 'string' },
                      },
                    },
                  },
                },
              },
              'The reads, oldest first.',
            ),
          },
        },
      },
      '/v1/decisions/{id}/replay': {
        post: {
          summary: 'Re-evaluate a decision with its recorded rule-set version and inputs',
          description: roles(['caseworker', 'auditor']),
          parameters: [idParam],
          responses: {
            200: json({ $ref: '#/components/schemas/Replay' }, 'Whether the replay matches, with any differences.'),
            404: problemResponse('No such decision.'),
            410: problemResponse('The inputs were removed under the retention policy.'),
            503: problemResponse('The store is unavailable.'),
          },
        },
      },
      '/v1/subjects': {
        get: {
          summary:
            'A subject access request: everything held about one application (its decisions with their inputs and every read of them, kept comparison cases, failed requests), as one JSON document. The export is itself recorded: a read of each decision, and an audit event naming the application by a digest',
          description: roles(SUBJECT_READERS),
          parameters: [
            { name: 'application', in: 'query', required: true, schema: subjectSchemas.export.properties.application },
          ],
          responses: {
            200: json({ type: 'object' }, 'Everything held about the application.'),
            400: problemResponse('application is not an application reference.'),
            503: problemResponse('The store is unavailable.'),
          },
        },
      },
      '/v1/subjects/erase': {
        post: {
          summary:
            "Erase what may be erased about one application: its decisions' inputs (the records and the log still verify, by the inputs' digests), the inputs and traces of kept comparison cases, its failed-request records. The decisions, outcomes and explanations stay, as the record of what was decided. Recorded in the audit chain with the reason",
          description: roles(SUBJECT_ERASERS),
          requestBody: { required: true, content: { 'application/json': { schema: subjectSchemas.erase } } },
          responses: {
            200: json({ type: 'object' }, 'How many of each were erased.'),
            400: problemResponse('application or reason is missing or not valid.'),
            503: problemResponse('The store is unavailable.'),
          },
        },
      },
      '/v1/replays': {
        post: {
          summary:
            'Replay a stratified sample of recorded decisions (every benefit, rule-set version and outcome) with the running build, and list any made differently: the check of a new engine against recorded decisions',
          description: `Recorded in the audit chain. With Accept: application/x-ndjson, progress lines every second, then {"result":...} or {"problem":...}. ${roles(REPLAYERS)}`,
          requestBody: { required: false, content: { 'application/json': { schema: replaySchemas.sample } } },
          responses: {
            200: json(
              {
                type: 'object',
                properties: {
                  engine: { type: 'object' },
                  since: { type: 'string', format: 'date' },
                  strata: { type: 'array', items: { type: 'object' } },
                  sampled: { type: 'integer' },
                  matched: { type: 'integer' },
                  mismatched: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        decisionId: { type: 'string' },
                        benefit: { type: 'string' },
                        ruleset: { type: 'string' },
                        paths: { type: 'array', items: { type: 'string' } },
                      },
                    },
                  },
                },
              },
              'The check: how many replayed, and every decision made differently, by the paths that differ.',
            ),
            400: problemResponse('sample or since is not valid.'),
            503: problemResponse('The store is unavailable.'),
          },
        },
      },
      ...releasePaths(),
      ...flagPaths(),
      ...rulesPaths(),
      ...incidentPaths(),
      '/v1/backup': {
        get: {
          summary:
            'A consistent snapshot of the whole database as gzipped NDJSON: every table, the sequences and the newest checkpoints (entitle restore brings it back)',
          description: roles(['admin']),
          responses: {
            200: { description: 'The backup, streamed (application/gzip).' },
            503: problemResponse('The database could not be read.'),
          },
        },
      },
      '/v1/keys': {
        get: {
          summary: 'API keys: names, holders, roles and dates (never the keys)',
          description: roles(['admin', 'auditor']),
          responses: { 200: { description: 'The keys.' } },
        },
        post: {
          summary:
            'Create a key for a person (recorded as made by the admin holding the calling key); the key is in the answer once and never stored',
          description: roles(['admin']),
          requestBody: { required: true, content: { 'application/json': { schema: keySchemas.create } } },
          responses: {
            201: { description: 'The key, its name, roles and holder.' },
            400: problemResponse(
              'The name is taken or not valid, a role is unknown, or the person cannot be named so.',
            ),
          },
        },
      },
      '/v1/keys/{name}/holder': {
        post: {
          summary:
            'Give a key made before keys belonged to people its holder, once; a key that has a holder keeps them',
          description: roles(['admin']),
          parameters: [{ name: 'name', in: 'path', required: true, schema: keySchemas.nameParams.properties.name }],
          requestBody: { required: true, content: { 'application/json': { schema: keySchemas.holder } } },
          responses: {
            200: { description: 'The key, with its holder.' },
            404: problemResponse('No active key of that name.'),
            409: problemResponse('The key has a holder already, or work under its name is not yet decided.'),
          },
        },
      },
      '/v1/keys/{name}/rotate': {
        post: {
          summary:
            'Rotate a key: a new key (printed once) for the same holder and roles, and the old one set to stop working after the overlap, so whatever uses it moves over without downtime; both recorded in the audit chain',
          description: roles(['admin']),
          parameters: [{ name: 'name', in: 'path', required: true, schema: keySchemas.nameParams.properties.name }],
          requestBody: { required: true, content: { 'application/json': { schema: keySchemas.rotate } } },
          responses: {
            201: { description: 'The new key, and when the old one stops working.' },
            400: problemResponse('The new name is taken or not valid, or a number of days is out of range.'),
            404: problemResponse('No active key of that name.'),
          },
        },
      },
      '/v1/keys/{name}/revoke': {
        post: {
          summary: 'Revoke a key: it stops working as soon as each instance hears of it, within 10 s',
          description: roles(['admin']),
          parameters: [{ name: 'name', in: 'path', required: true, schema: keySchemas.nameParams.properties.name }],
          responses: { 200: { description: 'The key revoked.' }, 404: problemResponse('No active key of that name.') },
        },
      },
      '/v1/whoami': {
        get: {
          summary: 'The key this request was sent with: its name, the person holding it and its roles',
          description: roles(ROLES),
          responses: { 200: { description: 'The key, its holder and roles.' }, 401: problemResponse('No valid key.') },
        },
      },
      '/health': {
        get: { summary: 'The process is alive', security: [], responses: { 200: { description: 'Alive.' } } },
      },
      '/version': {
        get: {
          summary: 'The build this instance runs and the rule-set version it decides with, per benefit',
          security: [],
          responses: {
            200: { description: 'The build (version and commit) and, per benefit, the rule-set id and hash.' },
          },
        },
      },
      '/ready': {
        get: {
          summary: 'Ready for traffic: database reachable, migrations current, rules loaded',
          security: [],
          responses: { 200: { description: 'Ready.' }, 503: { description: 'Not ready.' } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [],
          responses: { 200: { description: 'Prometheus text format.' } },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: `An API key from "entitle keys create". Roles: ${ROLES.join(', ')}.`,
        },
      },
      schemas: {
        ...requests,
        Problem: {
          type: 'object',
          required: ['type', 'title', 'status', 'code', 'detail'],
          properties: {
            type: { type: 'string' },
            title: { type: 'string' },
            status: { type: 'integer' },
            code: { type: 'string', description: 'Stable error code; see docs/errors.md.' },
            detail: { type: 'string' },
            instance: { type: 'string' },
            errors: {
              type: 'array',
              items: {
                type: 'object',
                required: ['message'],
                properties: { field: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
        Decision: {
          type: 'object',
          required: [
            'decisionId',
            'benefit',
            'applicationId',
            'assessmentDate',
            'ruleset',
            'engine',
            'outcome',
            'explanation',
            'recordedAt',
            'recordHash',
          ],
          properties: {
            decisionId: { type: 'string', format: 'uuid' },
            benefit: { type: 'string' },
            applicationId: { type: 'string' },
            assessmentDate: { type: 'string', format: 'date' },
            ruleset: { type: 'object', properties: { id: { type: 'string' }, hash: { type: 'string' } } },
            engine: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' } } },
            outcome: {
              type: 'object',
              properties: {
                entitled: { type: 'boolean' },
                amount: { type: 'number' },
                period: { type: 'string' },
                elements: { type: 'object' },
                details: { type: 'object' },
                provisional: {
                  const: true,
                  description:
                    'Present when the decision used a provisional rate: a figure reproduced by secondary sources, not yet confirmed from the official source. The explanation says so too.',
                },
                provisionalParameters: {
                  type: 'array',
                  items: { type: 'string' },
                  description: 'The provisional rates used, by parameter name (GET /v1/benefits/{benefit}/parameters).',
                },
                fieldsUsed: {
                  type: 'array',
                  items: { type: 'string' },
                  description:
                    'The household fields the rule set read, such as adults[].dateOfBirth (rule sets that read the shared household model).',
                },
              },
            },
            explanation: { type: 'array', items: { type: 'string' } },
            recordedAt: { type: 'string', format: 'date-time' },
            recordHash: { type: 'string' },
          },
        },
        StoredDecision: {
          allOf: [
            { $ref: '#/components/schemas/Decision' },
            {
              type: 'object',
              properties: {
                seq: {
                  type: 'integer',
                  description:
                    'A storage number: the place in the old hash chain for decisions made before the verifiable log (1, 2, ...), negative for decisions in the log.',
                },
                leafIndex: {
                  type: ['integer', 'null'],
                  description: 'Its place in the verifiable log; null for the second or so before it is placed.',
                },
                inputs: { type: ['object', 'null'] },
                purgedAt: { type: ['string', 'null'] },
                prevHash: {
                  type: ['string', 'null'],
                  description:
                    'Only for decisions recorded before the verifiable log: the record before it in the old chain.',
                },
              },
            },
          ],
        },
        Receipt: {
          type: 'object',
          required: ['format', 'decision', 'recordHash', 'leafIndex', 'treeSize', 'proof', 'checkpoint'],
          properties: {
            format: { type: 'string', enum: ['entitle-receipt/1'] },
            decision: { type: 'object', description: 'Exactly what the record hash covers (inputs by digest).' },
            recordHash: { type: 'string', description: 'sha256: of the RFC 8785 JSON of decision; the leaf data.' },
            leafIndex: { type: 'integer' },
            treeSize: { type: 'integer' },
            proof: { type: 'array', items: { type: 'string', description: 'base64 SHA-256' } },
            checkpoint: { type: 'string', description: 'The signed checkpoint the proof leads to.' },
            inputs: { type: 'object', description: 'The answers, while they are kept; their digest is in decision.' },
          },
        },
        Replay: {
          type: 'object',
          required: ['decisionId', 'match', 'differences'],
          properties: {
            decisionId: { type: 'string' },
            match: { type: 'boolean' },
            ruleset: { type: 'object' },
            engine: { type: 'object', properties: { recorded: { type: 'string' }, current: { type: 'string' } } },
            differences: {
              type: 'array',
              items: { type: 'object', properties: { path: { type: 'string' }, recorded: {}, replayed: {} } },
            },
          },
        },
      },
    },
  };
}

/** The releases API (src/http/routes/releases.ts), with the same body schemas it validates. */
function releasePaths(): Record<string, unknown> {
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
  const refused = {
    403: problemResponse('The key lacks the role, or the two-person rule refuses it.'),
    404: problemResponse('No such release.'),
    409: problemResponse('The release cannot take this step now (state, gates or a freeze window).'),
  };
  const step = (summary: string, who: readonly Role[], body: unknown) => ({
    post: {
      summary,
      description: roles(who),
      parameters: [idParam],
      requestBody: { required: false, content: { 'application/json': { schema: body } } },
      responses: { 200: { description: 'The release after the step.' }, ...refused },
    },
  });
  return {
    '/v1/releases': {
      get: {
        summary: 'Releases, oldest first',
        description: roles(['policy-author', 'approver', 'operator', 'auditor']),
        responses: { 200: { description: 'The releases.' } },
      },
      post: {
        summary: 'Record a candidate rule set as a release: compiled, golden tests run, validated or rejected',
        description: roles(['policy-author']),
        requestBody: { required: true, content: { 'application/json': { schema: releaseSchemas.create } } },
        responses: {
          201: { description: 'The release, validated or rejected, with the golden test results.' },
          400: problemResponse('The rule set, declaration or a field is not valid.'),
        },
      },
    },
    '/v1/releases/{id}': {
      get: {
        summary: 'A release with its comparisons, gate verdict and every step',
        description: roles(['policy-author', 'approver', 'operator', 'auditor']),
        parameters: [idParam],
        responses: { 200: { description: 'The release status.' }, 404: problemResponse('No such release.') },
      },
    },
    '/v1/releases/{id}/shadow': step(
      'Compare the candidate with the active version on a share of live assessments',
      ['policy-author'],
      releaseSchemas.shadow,
    ),
    '/v1/releases/{id}/canary': step(
      'Let the candidate decide a share of applications (only grows)',
      ['operator'],
      releaseSchemas.canary,
    ),
    '/v1/releases/{id}/approve': step(
      'Approve for promotion (never by the author); emergency approvals override a freeze window',
      ['approver'],
      releaseSchemas.approve,
    ),
    '/v1/releases/{id}/promote': step(
      'Make an approved release that passed its gates active, now or at its effective time',
      ['approver'],
      releaseSchemas.step,
    ),
    '/v1/releases/{id}/rollback': step(
      'Roll a release back; if active, the version it replaced decides again',
      ['operator'],
      releaseSchemas.required,
    ),
    '/v1/releases/{id}/backtest': step(
      'Backtest the release on stored decisions (by default the last 100,000), with one worker thread; the summary is recorded on the release. With Accept: application/x-ndjson, a line {"progress":{"done","total"}} every second, then {"result":...} or {"problem":...}',
      ['policy-author'],
      releaseSchemas.backtest,
    ),
    '/v1/releases/{id}/reject': step(
      'Reject a release that has not decided anything',
      ['policy-author', 'operator'],
      releaseSchemas.required,
    ),
    '/v1/freeze-windows': {
      get: {
        summary:
          'Freeze windows: when no release becomes active and no deploy goes ahead without an emergency override',
        description: roles(FREEZE_READERS),
        responses: { 200: { description: 'The windows, earliest first.' } },
      },
      post: {
        summary: 'Add a freeze window (UK times); recorded as done by the person holding the key',
        description: roles(FREEZE_WRITERS),
        requestBody: { required: true, content: { 'application/json': { schema: freezeWindowSchemas.add } } },
        responses: {
          201: { description: 'The window added.' },
          400: problemResponse('A time is not valid, or the window ends before it starts.'),
        },
      },
    },
    '/v1/deploys': {
      get: {
        summary: 'Deploys and rollbacks, newest first, from the audit chain',
        description: roles(DEPLOY_READERS),
        parameters: [
          { name: 'environment', in: 'query', required: false, schema: deploySchemas.history.properties.environment },
          { name: 'limit', in: 'query', required: false, schema: deploySchemas.history.properties.limit },
        ],
        responses: { 200: { description: 'The deploy records.' } },
      },
      post: {
        summary:
          'Record a deploy (or, with strategy rollback, a rollback) as done by the person holding the key; its approvals are the people who approved this build with their own keys',
        description: roles(DEPLOYERS),
        requestBody: { required: true, content: { 'application/json': { schema: deploySchemas.record } } },
        responses: {
          201: { description: 'The deploy record, in the format OPERATIONS.md states.' },
          400: problemResponse('A field is not valid.'),
          403: problemResponse('Production, and nobody but the person deploying has approved this build.'),
        },
      },
    },
    '/v1/deploys/approvals': {
      post: {
        summary:
          'Approve one build (version and commit) for one environment, or, with emergency, an override of a freeze',
        description: roles(DEPLOY_APPROVERS),
        requestBody: { required: true, content: { 'application/json': { schema: deploySchemas.approve } } },
        responses: { 201: { description: 'The approval.' }, 400: problemResponse('A field is not valid.') },
      },
    },
    '/v1/deploys/heightened': {
      get: {
        summary:
          "The environment's heightened window: the 24 hours after its last deploy or rollback, when burn-rate alerts page at a lower threshold",
        description: roles(DEPLOY_READERS),
        parameters: [
          { name: 'environment', in: 'query', required: true, schema: deploySchemas.heightened.properties.environment },
        ],
        responses: { 200: { description: 'Whether it is active, the deploy that opened it, and when it ends.' } },
      },
    },
    '/v1/deploys/watches': {
      post: {
        summary: 'Record what the watch after a deploy found (entitle deploy watch), in the audit chain',
        description: roles(DEPLOYERS),
        requestBody: { required: true, content: { 'application/json': { schema: deploySchemas.watch } } },
        responses: { 201: { description: 'The watch as recorded.' }, 400: problemResponse('A field is not valid.') },
      },
    },
    '/v1/deploys/window-check': {
      post: {
        summary:
          'Whether a deploy may go ahead now: no freeze window, or an emergency override two other people approved (recorded)',
        description: roles(DEPLOYERS),
        requestBody: { required: false, content: { 'application/json': { schema: deploySchemas.windowCheck } } },
        responses: {
          200: { description: 'The deploy may go ahead, and any override recorded.' },
          403: problemResponse('The emergency override lacks two approvers.'),
          409: problemResponse('Inside a freeze window.'),
        },
      },
    },
    '/v1/audit-events': {
      get: {
        summary: "The audit chain's events since an instant, oldest first: releases, deploys, flag changes, keys",
        description: roles(AUDIT_READERS),
        parameters: [
          { name: 'since', in: 'query', required: true, schema: { type: 'string', format: 'date-time' } },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 50000 } },
        ],
        responses: { 200: { description: 'The events.' }, 400: problemResponse('since is not an instant.') },
      },
    },
    '/v1/decisions/purge': {
      post: {
        summary:
          'Retention: remove the personal inputs of decisions made before an instant, in batches, and record the purge in the audit chain. With Accept: application/x-ndjson, progress lines, then {"result":...} or {"problem":...}',
        description: roles(PURGERS),
        requestBody: { required: true, content: { 'application/json': { schema: retentionSchemas.purge } } },
        responses: {
          200: {
            description:
              'The cutoff, how many decisions and release samples lost their inputs, and how many failed-assessment records (which name their applications) were removed.',
          },
          400: problemResponse('before is not an instant in the past.'),
        },
      },
    },
    '/v1/simulations': {
      post: {
        summary:
          'Record synthetic decisions (SYN- application ids) made by the active version, to backtest on; never in production. With Accept: application/x-ndjson (needed past 1,000 households), progress lines every second, then {"result":...} or {"problem":...}',
        description: roles(SIMULATORS),
        requestBody: { required: true, content: { 'application/json': { schema: simulationSchemas.record } } },
        responses: {
          200: { description: 'How many were recorded, and how many the rules could not decide, by code.' },
          400: problemResponse('An option is not valid.'),
          403: problemResponse('The key lacks the role, or the service runs in production.'),
        },
      },
    },
    '/v1/releases/{id}/affected': {
      get: {
        summary:
          'The remediation worklist: of a rolled-back release, the applications whose outcome changes under the version it returned to; of a promoted release, the decisions made on provisional values it confirms or corrects whose outcome those values change (kind: provisional)',
        description: `${roles(['operator'])} Send Accept: text/csv for the spreadsheet; Accept: application/x-ndjson for a line every second while it is worked out, then {"result":...} or {"problem":...}.`,
        parameters: [idParam],
        responses: { 200: { description: 'The worklist, in pence (JSON) or pounds (CSV).' }, ...refused },
      },
    },
  };
}

/** The feature-flag API (src/http/routes/flags.ts), with the same schemas it validates. */
function flagPaths(): Record<string, unknown> {
  const readers = roles(['operator', 'auditor', 'approver']);
  const keyParam = { name: 'key', in: 'path', required: true, schema: flagSchemas.keyParams.properties.key };
  const changeParam = { name: 'id', in: 'path', required: true, schema: flagSchemas.changeParams.properties.id };
  const decide = (summary: string) => ({
    post: {
      summary,
      description: roles(['operator', 'approver']),
      parameters: [changeParam],
      requestBody: { required: true, content: { 'application/json': { schema: flagSchemas.decision } } },
      responses: {
        200: { description: 'The change (and the flag, when applied).' },
        403: problemResponse('The key lacks the role, or the person approving asked for the change.'),
        404: problemResponse('No such change waiting for approval.'),
      },
    },
  });
  return {
    '/v1/flags': {
      get: {
        summary:
          'The flags as this instance follows them, the environment, changes waiting for a second person, and what is dropped under pressure',
        description: readers,
        responses: { 200: { description: 'Flags, environment, pending changes, degradation and admission.' } },
      },
    },
    '/v1/flags/stale': {
      get: {
        summary: 'Flags past their expiry date',
        description: readers,
        responses: { 200: { description: 'The stale flags.' } },
      },
    },
    '/v1/flags/{key}/history': {
      get: {
        summary: "A flag's audit events: who changed it, from what, to what, and why",
        description: readers,
        parameters: [keyParam],
        responses: { 200: { description: 'The audit events.' }, 404: problemResponse('No such flag.') },
      },
    },
    '/v1/flags/{key}/changes': {
      post: {
        summary:
          'Change a flag: applied at once, or in production once another person approves it (recorded as done by the key holder)',
        description: roles(['operator']),
        parameters: [keyParam],
        requestBody: { required: true, content: { 'application/json': { schema: flagSchemas.change } } },
        responses: {
          201: { description: 'Applied: the change and the flag.' },
          202: { description: 'Waiting for a second person: the change.' },
          400: problemResponse('A setting is not valid, or nothing would change.'),
          404: problemResponse('No such flag.'),
          409: problemResponse('Another change to this flag is waiting for approval.'),
        },
      },
    },
    '/v1/flag-changes': {
      get: {
        summary: 'Flag changes waiting for a second person',
        description: readers,
        responses: { 200: { description: 'The pending changes, oldest first.' } },
      },
    },
    '/v1/flag-changes/{id}/approve': decide('Approve a change someone else asked for: it takes effect at once'),
    '/v1/flag-changes/{id}/reject': decide('Reject a change waiting for approval; the flag stays as it is'),
  };
}

/** The incidents API (src/http/routes/incidents.ts) and Alertmanager's webhook, with the schemas they validate. */
function incidentPaths(): Record<string, unknown> {
  const readers = roles(['operator', 'auditor', 'approver', 'policy-author']);
  const operators = roles(['operator']);
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', description: 'such as INC-3' } };
  const notFound = { 404: problemResponse('No such incident.') };
  const read = (summary: string, description: string, extra: Record<string, unknown> = {}) => ({
    get: {
      summary,
      description,
      parameters: [idParam],
      responses: { 200: { description: summary }, ...notFound },
      ...extra,
    },
  });
  const change = (summary: string, body?: unknown) => ({
    post: {
      summary,
      description: `${operators} Recorded as done by the person holding the key.`,
      parameters: [idParam],
      ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
      responses: {
        200: { description: 'The incident after the change.' },
        400: problemResponse('A field is not valid.'),
        ...notFound,
        409: problemResponse('The incident cannot take this step from its state.'),
      },
    },
  });
  return {
    '/v1/incidents': {
      get: {
        summary: 'Incidents, open ones first, with what is overdue',
        description: readers,
        parameters: [
          { name: 'open', in: 'query', schema: { type: 'boolean' }, description: 'only incidents not yet resolved' },
          {
            name: 'unreviewed',
            in: 'query',
            schema: { type: 'boolean' },
            description: 'only incidents not yet reviewed',
          },
        ],
        responses: { 200: { description: 'The incidents.' } },
      },
      post: {
        summary: 'Declare an incident',
        description: `${operators} Recorded as declared by the person holding the key.`,
        requestBody: { required: true, content: { 'application/json': { schema: incidentSchemas.declare } } },
        responses: { 201: { description: 'The incident.' }, 400: problemResponse('A field is not valid.') },
      },
    },
    '/v1/incidents/{id}': read('An incident with its entries', readers),
    '/v1/incidents/{id}/updates': change('Add an update, or change status or priority', incidentSchemas.update),
    '/v1/incidents/{id}/roles': change(
      'Assign the incident lead, communications lead or scribe',
      incidentSchemas.assign,
    ),
    '/v1/incidents/{id}/acknowledge': change('Acknowledge the incident'),
    '/v1/incidents/{id}/timeline': read(
      'The timeline rebuilt from the records: entries, alerts, release steps, deploys and per-minute counts',
      readers,
    ),
    '/v1/incidents/{id}/impact': read(
      'Citizen impact from the records: failed assessments, decisions by the releases involved, applications to recontact',
      operators,
    ),
    '/v1/incidents/{id}/comms': read('A communication for an audience, filled from the record', operators, {
      parameters: [
        idParam,
        { name: 'audience', in: 'query', required: true, schema: { type: 'string', enum: [...AUDIENCES] } },
      ],
    }),
    '/v1/incidents/{id}/review': {
      ...read('The post-incident review, prefilled (Markdown)', operators),
      post: {
        summary:
          'Draft the post-incident review: the same Markdown, and an entry on the incident by the person drafting it',
        description: operators,
        parameters: [idParam],
        responses: { 200: { description: 'The review (Markdown).' }, ...notFound },
      },
    },
    '/v1/alerts/alertmanager': {
      post: {
        summary: "Alertmanager's webhook: one incident per alert group, deduplicated",
        description: roles(['alertmanager', 'operator']),
        requestBody: { required: true, content: { 'application/json': { schema: incidentSchemas.alertGroup } } },
        responses: {
          200: { description: 'The incident opened or updated, and whether it was created.' },
          400: problemResponse('The alert group is not valid.'),
        },
      },
    },
  };
}

/** The rules API (src/http/rules-api/routes.ts): what the service decides with, for any role. */
function rulesPaths(): Record<string, unknown> {
  const benefitParam = { name: 'benefit', in: 'path', required: true, schema: rulesSchemas.benefit.properties.benefit };
  const cached =
    "Answers carry an ETag from the rule sets' hashes: send it back in If-None-Match for 304 until a release changes them.";
  const notFound = problemResponse('This service decides no such benefit.');
  return {
    '/v1/benefits': {
      get: {
        summary: 'The benefits this service decides, each with the rule set that decides it',
        description: `${roles(ROLES)} ${cached}`,
        responses: { 200: { description: 'The benefits.' }, 304: { description: 'Unchanged since the ETag sent.' } },
      },
    },
    '/v1/benefits/{benefit}/parameters': {
      get: {
        summary:
          'Each parameter in force on a date: its exact value (pence, parts per million, ISO date), as text, its status (confirmed, provisional or unconfirmed), the date it took effect, its source and legal reference',
        description: `${roles(ROLES)} ${cached}`,
        parameters: [
          benefitParam,
          { name: 'date', in: 'query', required: false, schema: rulesSchemas.date.properties.date },
        ],
        responses: {
          200: { description: 'The parameters.' },
          304: { description: 'Unchanged since the ETag sent.' },
          400: problemResponse('date is not a date.'),
          404: notFound,
        },
      },
    },
    '/v1/household-schema': {
      get: {
        summary:
          "The household as JSON Schema: every field any benefit reads, and which benefit reads which (x-entitle-reads); with ?benefit=, that benefit's own, its fields required",
        description: `${roles(ROLES)} ${cached}`,
        parameters: [
          {
            name: 'benefit',
            in: 'query',
            required: false,
            schema: rulesSchemas.benefit.properties.benefit,
          },
        ],
        responses: {
          200: json({ type: 'object' }, 'A JSON Schema (draft 2020-12) of the household.'),
          304: { description: 'Unchanged since the ETag sent.' },
          404: notFound,
        },
      },
    },
    '/v1/benefits/{benefit}/variables': {
      get: {
        summary: 'Each variable: label, type, unit, the formula that works it out, what it reads, its legal reference',
        description: `${roles(ROLES)} ${cached}`,
        parameters: [benefitParam],
        responses: {
          200: { description: 'The variables.' },
          304: { description: 'Unchanged since the ETag sent.' },
          404: notFound,
        },
      },
    },
  };
}
