import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { backupTo } from '../../backup/index.ts';
import { EntitleError } from '../../errors/index.ts';
import { consistencyProofAt, latestCheckpoint, LOGS, type LogName } from '../../log/index.ts';
import type { ServiceContext } from '../context.ts';
import { fromStore } from '../../store/index.ts';

const logQuery = { type: 'string', enum: [...LOGS], default: 'decisions' } as const;

/**
 * The verifiable log's public face, for witnesses, auditors and anyone holding a receipt: the
 * newest signed checkpoint, consistency proofs between two sizes, and the verifier key. Nothing
 * here is personal data (only hashes and sizes), so it needs no key, as a Certificate
 * Transparency log's does not; it is rate-limited by address like other unauthenticated calls.
 */
export function registerLog(app: FastifyInstance, context: ServiceContext): void {
  const { db } = context;

  app.get(
    '/v1/log/checkpoint',
    { schema: { querystring: { type: 'object', properties: { log: logQuery }, additionalProperties: false } } },
    async (request, reply) => {
      const { log } = request.query as { log: LogName };
      const checkpoint = await fromStore(() => latestCheckpoint(db, log));
      if (!checkpoint) throw new EntitleError('ENTITLE_LOG_EMPTY', `the ${log} log has no checkpoint yet`);
      reply.header('cache-control', 'no-store');
      reply.header('x-entitle-checkpoint-time', checkpoint.madeAt);
      return reply.type('text/plain; charset=utf-8').send(checkpoint.note);
    },
  );

  app.get(
    '/v1/log/consistency',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['from', 'to'],
          properties: { log: logQuery, from: { type: 'integer', minimum: 1 }, to: { type: 'integer', minimum: 1 } },
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const { log, from, to } = request.query as { log: LogName; from: number; to: number };
      const latest = await fromStore(() => latestCheckpoint(db, log));
      const size = latest?.size ?? 0;
      if (from > to || to > size)
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'the sizes are not in the log', [
          {
            field: from > to ? 'from' : 'to',
            message: `give 1 <= from <= to <= ${size}, the size of the newest checkpoint`,
          },
        ]);
      const proof = await fromStore(() => consistencyProofAt(db, log, from, to));
      return { log, from, to, proof: proof.map((h) => h.toString('base64')) };
    },
  );

  app.get('/v1/log/public-key', async (_request, reply) =>
    reply.type('text/plain; charset=utf-8').send(`${context.log.verifier.text}\n`),
  );
}

/**
 * GET /v1/backup: a consistent snapshot of the whole database, streamed (admin only: it holds
 * personal data). How `entitle backup --url` backs up the embedded database while the service,
 * which holds it, runs; with PostgreSQL the command can also read the database directly.
 */
export function registerBackupRoute(app: FastifyInstance, context: ServiceContext): void {
  app.get('/v1/backup', { config: { roles: ['admin'] } }, async (request, reply) => {
    // The copy is made before the first byte is sent: the idle timeout must not cut it.
    if (typeof request.raw.socket?.setTimeout === 'function') request.raw.socket.setTimeout(0);
    const dir = await mkdtemp(join(tmpdir(), 'entitle-backup-'));
    const file = join(dir, 'backup.ndjson.gz');
    try {
      await backupTo(context.db, file);
    } catch {
      await rm(dir, { recursive: true, force: true });
      throw new EntitleError('ENTITLE_STORE_UNAVAILABLE', 'the database could not be backed up now');
    }
    request.log.info({ event: 'backup_served', by: request.apiKey?.name }, 'a backup of the database was served');
    const stream = createReadStream(file);
    stream.on('close', () => void rm(dir, { recursive: true, force: true }));
    reply.header('content-disposition', 'attachment; filename="entitle-backup.ndjson.gz"');
    reply.header('cache-control', 'no-store');
    return reply.type('application/gzip').send(stream);
  });
}
