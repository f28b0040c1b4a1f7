import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ROLES } from '../keys/index.ts';
import {
  requestFor,
  testDatabases,
  testService,
  type FuzzRequest,
  type TestDatabase,
  type TestService,
} from '../testing/index.ts';
import { routesOf } from './app.ts';

/**
 * The fuzz suite: requests generated from every route's own schemas (the OpenAPI document's and
 * the pages'), well-formed and hostile, sent over HTTP to the service on PostgreSQL. No answer may
 * be a 500 (or any 5xx but a 503 with Retry-After), show a stack trace or a path of the server,
 * or take 5 s. FUZZ_RUNS sets how many (10,000 by default; CI runs the default); a failure is
 * shrunk by fast-check to the smallest request that shows it, and its seed is printed.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
/** Node's limit on a request's line and headers (http.maxHeaderSize), less room for what fetch adds. */
const HEAD_LIMIT = 16 * 1024 - 512;
const headSize = (request: FuzzRequest) =>
  Buffer.byteLength(request.path) +
  32 + // the x-fuzz-id header the test adds
  Object.entries(request.headers).reduce((n, [k, v]) => n + Buffer.byteLength(k + v) + 4, 0);

/**
 * What the server answered, by the id the test puts on each request. Node answers a request whose
 * body has not all arrived (a 401 from the key check, say) and then closes the connection rather
 * than read an unbounded body; a client still writing the body may then see the connection reset
 * before it reads the answer. The server did answer, so such a request is judged by what it sent.
 */
interface Answer {
  readonly status: number;
  readonly retryAfter: boolean;
  readonly bodyComplete: boolean;
}

/** Sent at once, so the service is fuzzed under some concurrency too. */
const AT_ONCE = 8;

// A GOV.UK page's title may start "Error: " (a form with a mistake): the names of JavaScript's errors may not appear.
const LEAKS = [
  /\n\s+at .+\(.+:\d+:\d+\)/,
  /node_modules/,
  /\/src\/[\w/-]+\.ts/,
  /\/work\//,
  /\/home\//,
  /\b(TypeError|RangeError|SyntaxError|ReferenceError|FastifyError|DatabaseError)\b/,
];

describe('fuzzing every route', () => {
  let database: TestDatabase;
  let service: TestService;
  let base: string;
  const answered = new Map<string, Answer>();
  let sent = 0;
  before(async () => {
    database = await testDatabases.postgres();
    const unlimited = Object.fromEntries(ROLES.map((role) => [role, 10_000_000]));
    service = await testService({ rateLimits: unlimited }, database.db);
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    service.app.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      const id = request.headers['x-fuzz-id'];
      if (typeof id !== 'string') return;
      response.on('finish', () =>
        answered.set(id, {
          status: response.statusCode,
          retryAfter: response.hasHeader('retry-after'),
          bodyComplete: request.complete,
        }),
      );
    });
    base = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await service.app.close();
    await database.drop();
  });

  it(
    `answers ${RUNS} generated requests without a 500, a leak or a wait over 5 s`,
    { timeout: 1_200_000 },
    async () => {
      const routes = routesOf(service.app).filter((r) => !r.url.includes('*') && r.url !== '/test/faults');
      assert.ok(routes.length > 30, `routes found: ${routes.length}`);
      const keys = Object.values(service.keys);
      const seen = new Map<number, number>();
      let slowest = 0;
      let earlyAnswers = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.constantFrom(...routes).chain((route) => requestFor(route, keys)),
            { minLength: AT_ONCE, maxLength: AT_ONCE },
          ),
          async (requests) => {
            await Promise.all(
              requests.map(async (request) => {
                const started = Date.now();
                const id = String(++sent);
                const headers = { ...request.headers, 'x-fuzz-id': id };
                let response: Response;
                try {
                  response = await fetch(`${base}${request.path}`, {
                    method: request.method,
                    headers,
                    ...(request.body !== undefined ? { body: request.body } : {}),
                    signal: AbortSignal.timeout(5_000),
                  });
                } catch (error) {
                  // Node's HTTP parser answers a head over its limit (16 KiB) with 431 and closes
                  // the connection at once, so the client may see the close before the answer.
                  if (headSize(request) > HEAD_LIMIT) {
                    seen.set(0, (seen.get(0) ?? 0) + 1);
                    return;
                  }
                  // Answered before its body had all arrived, then closed (see Answer): the
                  // answer the server sent is judged instead. Any other request must be answered.
                  const answer = answered.get(id);
                  if (!answer || answer.bodyComplete) throw error;
                  const what = `${request.method} ${request.path.slice(0, 200)} -> ${answer.status} (answered before its body arrived)`;
                  assert.ok(answer.status < 500 || (answer.status === 503 && answer.retryAfter), what);
                  earlyAnswers += 1;
                  return;
                }
                const text = await response.text();
                const took = Date.now() - started;
                slowest = Math.max(slowest, took);
                seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
                const what = `${request.method} ${request.path.slice(0, 200)} -> ${response.status}`;
                assert.ok(response.status < 500 || response.status === 503, `${what}: ${text.slice(0, 300)}`);
                if (response.status === 503)
                  assert.ok(response.headers.get('retry-after'), `${what} without Retry-After`);
                for (const leak of LEAKS) assert.doesNotMatch(text, leak, `${what} shows ${String(leak)}`);
                assert.ok(took < 5_000, `${what} took ${took} ms`);
              }),
            );
          },
        ),
        {
          numRuns: Math.ceil(RUNS / AT_ONCE),
          endOnFailure: false,
          // To replay a failure: FUZZ_SEED and FUZZ_PATH as fast-check printed them.
          ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}),
          ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}),
        },
      );
      // The handlers ran, not only the validators: some requests were served.
      assert.ok((seen.get(200) ?? 0) + (seen.get(201) ?? 0) > RUNS / 20, JSON.stringify([...seen]));
      process.stdout.write(
        `# fuzz: ${RUNS} requests; by status ${JSON.stringify(Object.fromEntries(seen))}; slowest ${slowest} ms; ` +
          `${earlyAnswers} answered before their body arrived, their connection reset before the client read it\n`,
      );
    },
  );
});
