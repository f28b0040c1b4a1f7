import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { AddressInfo } from 'node:net';
import type { InjectOptions } from 'fastify';
import { trustProxyFrom } from './app.ts';
import type { ProblemDocument } from './problems.ts';
import { unacknowledgedDecisions } from '../decisions/index.ts';
import { createKey } from '../keys/index.ts';
import { openPglite, withFaults, type Database } from '../store/index.ts';
import { alertGroup, canaryInput, testService, type TestService } from '../testing/index.ts';

/**
 * What an attacker or a failing network would try, each answered clearly: no lockout of valid
 * keys, no 500, no place in the queue held by a slow client, no implausible household decided.
 */

const withChild = (dateOfBirth: string) => ({
  ...canaryInput,
  household: { ...canaryInput.household, children: [{ dateOfBirth, disability: 'none' }] },
});

describe('hostile traffic', () => {
  let service: TestService;
  before(async () => {
    service = await testService();
  });
  after(() => service.close());

  const assess = (payload: unknown, headers: Record<string, string> = {}) =>
    service.app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: { authorization: `Bearer ${service.keys.assessor}`, ...headers },
      payload: payload as object,
    });

  it('refuses bad keys from an address with 429 after 60 a minute, and still serves a valid key from it', async () => {
    // Sent at once, as a flood would be: the misses share one read of the keys.
    const responses = await Promise.all(
      Array.from({ length: 70 }, (_, i) =>
        service.app.inject({
          method: 'GET',
          url: '/v1/flags',
          headers: { authorization: `Bearer ent_made-up-${i}` },
          remoteAddress: '203.0.113.9',
        }),
      ),
    );
    const statuses = responses.map((r) => r.statusCode).sort();
    assert.equal(statuses.filter((s) => s === 401).length, 60);
    assert.equal(statuses.filter((s) => s === 429).length, 10);
    assert.ok(responses.every((r) => r.statusCode !== 429 || r.headers['retry-after']));
    const valid = await service.app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: { authorization: `Bearer ${service.keys.assessor}` },
      remoteAddress: '203.0.113.9',
      payload: canaryInput,
    });
    assert.equal(valid.statusCode, 201);
    // Another address is not held responsible.
    const other = await service.app.inject({
      method: 'GET',
      url: '/v1/flags',
      headers: { authorization: 'Bearer ent_another-one' },
      remoteAddress: '203.0.113.10',
    });
    assert.equal(other.statusCode, 401);
  });

  it('believes X-Forwarded-For only from the proxies it is told of, and refuses a number of hops', async () => {
    const behind = await testService({ trustProxy: trustProxyFrom('10.0.0.0/8, fd00::/8') });
    // Each bad key with a prefix of its own, so only addresses are counted.
    let sent = 0;
    try {
      const from = (client: string, peer = '10.1.2.3') =>
        behind.app.inject({
          method: 'GET',
          url: '/v1/flags',
          headers: { authorization: `Bearer ent_${String((sent += 1)).padStart(8, '0')}`, 'x-forwarded-for': client },
          remoteAddress: peer,
        });
      const flood = await Promise.all(Array.from({ length: 61 }, () => from('198.51.100.7')));
      assert.equal(flood.filter((r) => r.statusCode === 429).length, 1, 'the client at fault is limited');
      assert.equal((await from('198.51.100.8')).statusCode, 401, 'another client behind the same proxy is not');
      // A peer that is not a trusted proxy cannot choose its address with the header.
      const direct = await Promise.all(Array.from({ length: 61 }, (_, i) => from(`192.0.2.${i}`, '203.0.113.50')));
      assert.equal(direct.filter((r) => r.statusCode === 429).length, 1);
    } finally {
      await behind.close();
    }
    assert.equal(trustProxyFrom(undefined), false);
    assert.equal(trustProxyFrom('true'), true);
    assert.deepEqual(trustProxyFrom('10.0.0.0/8, fd00::/8'), ['10.0.0.0/8', 'fd00::/8']);
    for (const bad of ['1', '10.0.0.0/33', 'ingress', '10.0.0.0/8/1'])
      assert.throws(() => trustProxyFrom(bad), /ENTITLE_TRUST_PROXY cannot be read/, bad);
  });

  it('knows a key created elsewhere as soon as its creation is heard of, even during a flood of bad keys', async () => {
    await service.app.inject({ method: 'GET', url: '/v1/flags', headers: { authorization: 'Bearer ent_flood-1' } });
    const { key } = await createKey(service.db, 'created-during-a-flood', ['operator']);
    await service.app.inject({ method: 'GET', url: '/v1/flags', headers: { authorization: 'Bearer ent_flood-2' } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const response = await service.app.inject({
      method: 'GET',
      url: '/v1/flags',
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(response.statusCode, 200);
  });

  it('refuses a key given twice in one JSON object, naming it', async () => {
    const body = JSON.stringify(canaryInput).replace(
      '"benefit":"universal-credit"',
      '"benefit":"universal-credit","benefit":"child-benefit"',
    );
    const response = await service.app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: { authorization: `Bearer ${service.keys.assessor}`, 'content-type': 'application/json' },
      payload: body,
    });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json<ProblemDocument>().errors?.[0]?.field, 'benefit');
    const nested = JSON.stringify(canaryInput).replace('"capital":7171.71', '"capital":7171.71,"capital":0');
    const second = await service.app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: { authorization: `Bearer ${service.keys.assessor}`, 'content-type': 'application/json' },
      payload: nested,
    });
    assert.equal(second.json<ProblemDocument>().errors?.[0]?.field, 'household.capital');
  });

  it('answers deep JSON with an Idempotency-Key with 400, not 500', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const response = await service.app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: {
        authorization: `Bearer ${service.keys.assessor}`,
        'content-type': 'application/json',
        'idempotency-key': 'deep-1',
      },
      payload: `{"benefit":"universal-credit","household":${deep}}`,
    });
    assert.equal(response.statusCode, 400);
    assert.match(response.json<ProblemDocument>().errors?.[0]?.message ?? '', /levels deep/);
  });

  it('refuses NUL and half surrogate pairs in the body, the query and the path, naming the field', async () => {
    const nul = await assess({ ...canaryInput, applicationId: 'APP\u0000-1' });
    assert.equal(nul.statusCode, 400);
    assert.equal(nul.json<ProblemDocument>().errors?.[0]?.field, 'applicationId');
    const surrogate = await assess({ ...canaryInput, applicationId: 'APP-\ud800' }, {});
    assert.equal(surrogate.statusCode, 400);
    const query = await service.app.inject({
      method: 'GET',
      url: '/v1/incidents?status=open%00',
      headers: { authorization: `Bearer ${service.keys.operator}` },
    });
    assert.equal(query.statusCode, 400);
    assert.equal(query.json<ProblemDocument>().errors?.[0]?.field, 'status');
    const path = await service.app.inject({
      method: 'GET',
      url: '/v1/incidents/INC-%00',
      headers: { authorization: `Bearer ${service.keys.operator}` },
    });
    assert.equal(path.statusCode, 400);
  });

  it('refuses an Alertmanager alert with a broken character, and opens no incident for it', async () => {
    const before = await service.db.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents');
    const response = await service.app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers: { authorization: `Bearer ${service.keys.alertmanager}` },
      payload: alertGroup('X', { priority: 'P2', summary: 'broken \udc00 text' }),
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json<ProblemDocument>().errors?.[0]?.field, 'commonAnnotations.summary');
    const afterwards = await service.db.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents');
    assert.equal(afterwards.rows[0]!.n, before.rows[0]!.n);
  });

  it('refuses a child born before 1900, or too old to be a child, naming the field', async () => {
    for (const dateOfBirth of ['1899-12-31', '1970-01-01', '2005-05-31']) {
      const response = await assess(withChild(dateOfBirth));
      assert.equal(response.statusCode, 400, dateOfBirth);
      assert.equal(response.json<ProblemDocument>().errors?.[0]?.field, 'children[0].dateOfBirth', dateOfBirth);
    }
    // Nineteen on the assessment date is a qualifying young person.
    assert.equal((await assess(withChild('2005-06-02'))).statusCode, 201);
    const adult = await assess({
      ...canaryInput,
      household: {
        ...canaryInput.household,
        adults: [{ ...canaryInput.household.adults[0], dateOfBirth: '1899-01-01' }],
      },
    });
    assert.equal(adult.json<ProblemDocument>().errors?.[0]?.field, 'adults[0].dateOfBirth');
  });
});

describe('a database that fails', () => {
  it('answers 503 with Retry-After, never 500, on every kind of route while the database is down', async () => {
    const inner = await openPglite(undefined);
    const faults = withFaults(inner);
    const service = await testService({ faults }, faults.db);
    try {
      // The first key checked reads every key: the database is then needed for the work itself.
      const as = (role: keyof TestService['keys']) => ({ authorization: `Bearer ${service.keys[role]}` });
      await service.app.inject({ method: 'GET', url: '/v1/flags', headers: as('operator') });
      faults.setDatabaseDown(true);
      const calls = [
        { method: 'GET', url: '/v1/releases', headers: as('operator') },
        { method: 'POST', url: '/v1/releases/REL-1/approve', headers: as('approver'), payload: { reason: 'fine' } },
        { method: 'GET', url: '/v1/incidents', headers: as('operator') },
        {
          method: 'POST',
          url: '/v1/incidents',
          headers: as('operator'),
          payload: { title: 'Decisions are slow', priority: 'P3', text: 'Assessments take seconds' },
        },
        {
          method: 'POST',
          url: '/v1/alerts/alertmanager',
          headers: as('alertmanager'),
          payload: alertGroup('Y'),
        },
      ] as const;
      for (const call of calls) {
        const response = await service.app.inject(call as unknown as InjectOptions);
        assert.equal(response.statusCode, 503, `${call.method} ${call.url}: ${response.body}`);
        assert.ok(response.headers['retry-after'], `${call.method} ${call.url} has Retry-After`);
      }
    } finally {
      faults.setDatabaseDown(false);
      await service.close();
    }
  });
});

describe('slow clients', () => {
  it('holds no admission place while a body arrives, and closes a socket that sends too slowly', async () => {
    const service = await testService({
      capacity: {
        admission: { maxConcurrent: 2, queueLimit: 0, maxWaitMs: 100, citizenReserved: 1 },
        degradation: (await import('../testing/capacity.ts')).CAPACITY_WITHOUT_PRESSURE.degradation,
      },
      timeouts: { requestMs: 1_000, headersMs: 1_000 },
    });
    try {
      await service.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = service.app.server.address() as AddressInfo;
      const body = JSON.stringify(canaryInput);
      const sockets = Array.from({ length: 20 }, () => {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => undefined);
        socket.resume();
        socket.write(
          `POST /v1/assessments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${service.keys.assessor}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
        );
        return socket;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const response = await fetch(`http://127.0.0.1:${port}/v1/assessments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${service.keys.assessor}`, 'content-type': 'application/json' },
        body,
      });
      assert.equal(response.status, 201, 'a citizen is served while 20 slow bodies arrive');
      const closed = await Promise.all(
        sockets.map(
          (socket) =>
            new Promise<number>((resolve) => {
              const started = Date.now();
              if (socket.destroyed) resolve(0);
              socket.once('close', () => resolve(Date.now() - started));
            }),
        ),
      );
      assert.ok(
        Math.max(...closed) < 3_000,
        `slow sockets closed within the request timeout (${Math.max(...closed)} ms)`,
      );
    } finally {
      await service.close();
    }
  });
});

/** Writes `requests` on one connection, one after the other's answer, and gives each answer's text. */
async function onOneConnection(port: number, requests: readonly string[]): Promise<string[]> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  const answers: string[] = [];
  for (const request of requests) {
    const from = received.length;
    socket.write(request);
    const started = Date.now();
    // An answer is whole when its Content-Length of body has followed its head.
    for (;;) {
      const text = received.slice(from);
      const head = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text.slice(0, head))?.[1];
      if (head >= 0 && length && text.length >= head + 4 + Number(length)) break;
      assert.ok(Date.now() - started < 3_000, `answered within 3 s: ${text.slice(0, 200)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    answers.push(received.slice(from));
  }
  await new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
  return answers;
}

describe('requests that are not HTTP Node will take', () => {
  it('answers a head over 16 KiB or a head too slow with a problem that closes the connection', async () => {
    const service = await testService({ timeouts: { requestMs: 1_000, headersMs: 500 } });
    try {
      await service.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = service.app.server.address() as AddressInfo;
      const health = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n';
      // After an answer on the same connection: a client that sees no "Connection: close" sends
      // its next request on a connection about to close, and loses it.
      const [first, tooLarge] = await onOneConnection(port, [
        health,
        `GET /health?q=${'x'.repeat(17 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      ]);
      assert.match(first!, /^HTTP\/1\.1 200/);
      assert.match(tooLarge!, /^HTTP\/1\.1 431 /);
      assert.match(tooLarge!, /\r\nconnection: close\r\n/i);
      assert.match(tooLarge!, /"code":"ENTITLE_HEADERS_TOO_LARGE"/);

      const [, slow] = await onOneConnection(port, [health, 'GET /health HTTP/1.1\r\nHost: x\r\n']);
      assert.match(slow!, /^HTTP\/1\.1 408 /);
      assert.match(slow!, /\r\nconnection: close\r\n/i);
      assert.match(slow!, /"code":"ENTITLE_REQUEST_TIMEOUT"/);

      const [garbage] = await onOneConnection(port, ['NOT HTTP AT ALL\r\n\r\n']);
      assert.match(garbage!, /^HTTP\/1\.1 400 /);
      assert.match(garbage!, /"code":"ENTITLE_NOT_HTTP"/);
    } finally {
      await service.close();
    }
  });
});

describe('decisions whose callers never had the answer', () => {
  it('counts and lists a decision recorded after its client went away', async () => {
    const inner: Database = await openPglite(undefined);
    // Every transaction waits a little, so the client can go first.
    const slow: Database = {
      ...inner,
      transaction: async (work, call) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return inner.transaction(work, call);
      },
    };
    const service = await testService({}, slow);
    try {
      await service.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = service.app.server.address() as AddressInfo;
      const body = JSON.stringify(canaryInput);
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(
        `POST /v1/assessments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${service.keys.assessor}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.destroy();
      let listed: Awaited<ReturnType<typeof unacknowledgedDecisions>> = [];
      for (let i = 0; i < 50 && listed.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        listed = await unacknowledgedDecisions(inner, '1970-01-01T00:00:00.000Z', 10);
      }
      assert.equal(listed.length, 1);
      assert.equal(listed[0]!.reason, 'client_gone');
      assert.equal(listed[0]!.applicationId, canaryInput.applicationId);
      const response = await fetch(`http://127.0.0.1:${port}/v1/decisions/unacknowledged`, {
        headers: { authorization: `Bearer ${service.keys.caseworker}` },
      });
      assert.equal(((await response.json()) as { decisions: unknown[] }).decisions.length, 1);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, /entitle_decisions_unacknowledged_total\{reason="client_gone"\} 1/);
    } finally {
      await service.close();
    }
  });
});
