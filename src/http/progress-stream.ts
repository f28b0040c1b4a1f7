import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problemOf, toEntitleError } from './problems.ts';

export interface WorkProgress {
  readonly done: number;
  readonly total: number;
}

export const NDJSON = 'application/x-ndjson';

/**
 * Long work (a backtest, a simulation) answered as it goes. A caller that sends Accept:
 * application/x-ndjson gets a stream of lines: {"progress":{done,total}} at least every second
 * while the work runs, then {"result":...} or {"problem":...}; so the command line shows progress
 * and the connection never sits idle. Any other caller gets the result as one JSON answer.
 * Problems found before the work starts should be thrown before calling this: they are answered
 * with their own status, as usual.
 */
export async function answerWithProgress<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  work: (progress: (p: WorkProgress) => void) => Promise<T>,
): Promise<T | FastifyReply> {
  if (!(request.headers.accept ?? '').includes(NDJSON)) return work(() => undefined);
  const lines = new PassThrough();
  // A caller that hangs up does not stop the work (it is recorded when done); its lines go nowhere.
  lines.on('error', () => undefined);
  const send = (value: unknown) => {
    if (!lines.destroyed && lines.writable) lines.write(`${JSON.stringify(value)}\n`);
  };
  let last: WorkProgress = { done: 0, total: 0 };
  let sentAt = 0;
  const ticker = setInterval(() => send({ progress: last }), 1_000);
  work((p) => {
    last = p;
    if (Date.now() - sentAt < 1_000) return;
    sentAt = Date.now();
    send({ progress: p });
  })
    .then((result) => {
      send({ progress: last });
      send({ result });
    })
    .catch((error: unknown) => {
      const problem = toEntitleError(error);
      // As the error handler does: the message could quote anything, so only its kind is logged.
      if (problem.code === 'ENTITLE_INTERNAL')
        request.log.error({ event: 'unexpected_error', kind: (error as Error).name }, 'long work failed');
      send({ problem: problemOf(problem, request.id) });
    })
    .finally(() => {
      clearInterval(ticker);
      lines.end();
    });
  return reply.type(`${NDJSON}; charset=utf-8`).send(lines);
}
