import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { SMTPServer } from 'smtp-server';
import {
  Dispatcher,
  EmailNotifier,
  loadEscalationPolicy,
  NotifyError,
  parseEscalationPolicy,
  tryChannel,
  WebhookNotifier,
  type Notification,
  type Notifier,
} from './index.ts';

const declared: Notification = {
  kind: 'declared',
  incidentId: 'INC-7',
  priority: 'P1',
  title: 'Assessments failing',
  text: 'No assessment can be made since 02:10. <!channel> & co are looking.',
  url: 'https://entitle.example.gov.uk/incidents/INC-7',
};

/** Where the tests' webhooks post; the path stands for the secret part of a real webhook URL. */
const SECRET_PATH = '/services/T0000/B0000/s3cr3t-t0ken';

interface Received {
  readonly body: string;
  readonly contentType: string | undefined;
}

type Answer = (request: IncomingMessage, response: ServerResponse, count: number) => void;

const closers: (() => Promise<void>)[] = [];
after(async () => {
  await Promise.all(closers.map((close) => close()));
});

/** A real HTTP server on a free local port, answering each request as `answer` says. */
async function webhookReceiver(
  answer: Answer = (_, response) => response.end('ok'),
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), contentType: request.headers['content-type'] });
      answer(request, response, received.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${SECRET_PATH}`, received };
}

interface Mail {
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: string;
}

/** A real SMTP server on a free local port, without TLS or login, keeping every message. */
async function smtpReceiver(): Promise<{ url: string; mails: Mail[] }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const { mailFrom, rcptTo } = session.envelope;
        mails.push({
          from: mailFrom ? mailFrom.address : '',
          to: rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(resolve)));
  return { url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`, mails };
}

/** A TCP server that takes connections and never says a word: a hung SMTP server. */
async function silentServer(): Promise<number> {
  const server: Server = createTcpServer(() => {});
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

/** The headers and the body of a received message, with quoted-printable undone. */
function readMail(raw: string): { headers: Record<string, string>; body: string } {
  const [head = '', ...rest] = raw.split('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = rest.join('\r\n\r\n');
  if (headers['content-transfer-encoding'] === 'quoted-printable') {
    body = body
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  return { headers, body: body.replaceAll('\r\n', '\n') };
}

/** What an error shows anyone: its message and problems. */
const shown = (error: unknown) =>
  JSON.stringify({ message: (error as Error).message, problems: (error as NotifyError).problems });

describe('WebhookNotifier', () => {
  it('posts Slack-compatible JSON: a header, the priority, incident and text, and the link', async () => {
    const { url, received } = await webhookReceiver();
    await new WebhookNotifier({ name: 'on-call', url }).send(declared);

    assert.equal(received.length, 1);
    assert.equal(received[0]!.contentType, 'application/json');
    const message = JSON.parse(received[0]!.body) as {
      text: string;
      blocks: { type: string; text?: { type: string; text: string }; fields?: { text: string }[] }[];
    };
    assert.equal(message.text, '[P1] INC-7: Incident declared: Assessments failing');
    assert.deepEqual(
      message.blocks.map((b) => b.type),
      ['header', 'section', 'section'],
    );
    const [header, section, link] = message.blocks;
    assert.deepEqual(header!.text, { type: 'plain_text', text: 'Incident declared: Assessments failing' });
    assert.deepEqual(
      section!.fields!.map((f) => f.text),
      ['*Priority*\nP1', '*Incident*\nINC-7'],
    );
    // Escaped, so the incident's own words cannot ping the whole channel.
    assert.equal(section!.text!.text, 'No assessment can be made since 02:10. &lt;!channel&gt; &amp; co are looking.');
    assert.equal(link!.text!.text, '*Link*\n<https://entitle.example.gov.uk/incidents/INC-7>');
  });

  it('leaves the link out when there is none', async () => {
    const { url, received } = await webhookReceiver();
    await new WebhookNotifier({ name: 'team', url }).send({
      kind: 'resolved',
      incidentId: 'INC-8',
      priority: 'P4',
      title: 'Typo on the start page',
      text: 'Fixed.',
    });
    const message = JSON.parse(received[0]!.body) as { blocks: { type: string }[] };
    assert.equal(message.blocks.length, 2);
  });

  it('retries once after a 5xx answer', async () => {
    const { url, received } = await webhookReceiver((_, response, count) => {
      response.statusCode = count === 1 ? 500 : 200;
      response.end(count === 1 ? 'internal_error' : 'ok');
    });
    await new WebhookNotifier({ name: 'on-call', url, retryDelayMs: 10 }).send(declared);
    assert.equal(received.length, 2);
    assert.equal(received[1]!.body, received[0]!.body);
  });

  it('does not retry a refusal, and says what the chat service said', async () => {
    const { url, received } = await webhookReceiver((_, response) => {
      response.statusCode = 404;
      response.end('no_service');
    });
    const error = await new WebhookNotifier({
      name: 'on-call',
      url,
      setting: 'ENTITLE_ONCALL_WEBHOOK_URL',
      retryDelayMs: 10,
    })
      .send(declared)
      .then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      );
    assert.equal(received.length, 1);
    assert.ok(error instanceof NotifyError);
    assert.equal(error.code, 'ENTITLE_NOTIFICATION_FAILED');
    assert.match(error.message, /webhook channel "on-call" did not take the notification: answered 404 \(no_service\)/);
    assert.equal(error.problems[0]?.field, 'ENTITLE_ONCALL_WEBHOOK_URL');
  });

  it('gives up on a receiver that never answers, twice, without showing the URL', async () => {
    const { url, received } = await webhookReceiver(() => {});
    const started = Date.now();
    const error = await new WebhookNotifier({
      name: 'on-call',
      url,
      setting: 'ENTITLE_ONCALL_WEBHOOK_URL',
      timeoutMs: 200,
      retryDelayMs: 10,
    })
      .send(declared)
      .then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      );
    assert.ok(Date.now() - started < 2000, 'each attempt stops at the timeout');
    assert.equal(received.length, 2);
    assert.match(
      (error as Error).message,
      /webhook channel "on-call" did not take the notification: no answer within 0.2 s \(tried twice\)/,
    );
    assert.ok(!shown(error).includes(SECRET_PATH) && !shown(error).includes(url));
  });

  it('reports an unreachable receiver by its error code, without the URL', async () => {
    // A port that was free a moment ago: nothing listens there now.
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const free = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const url = `http://127.0.0.1:${free}${SECRET_PATH}`;
    const error = await new WebhookNotifier({ name: 'on-call', url, retryDelayMs: 10 }).send(declared).then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.match((error as Error).message, /could not be reached \(ECONNREFUSED\) \(tried twice\)/);
    assert.ok(!shown(error).includes(SECRET_PATH));
  });

  it('refuses a URL that is not http(s), without repeating it', () => {
    assert.throws(
      () =>
        new WebhookNotifier({
          name: 'on-call',
          url: 'hooks.slack.com/services/T0/B0/s3cr3t',
          setting: 'ENTITLE_ONCALL_WEBHOOK_URL',
        }),
      (error: unknown) =>
        error instanceof NotifyError &&
        error.problems[0]?.field === 'ENTITLE_ONCALL_WEBHOOK_URL' &&
        !shown(error).includes('s3cr3t'),
    );
  });
});

describe('EmailNotifier', () => {
  it('sends a plain-text email with the priority and incident in the subject', async () => {
    const { url, mails } = await smtpReceiver();
    await new EmailNotifier({
      name: 'on-call-email',
      smtpUrl: url,
      from: 'entitle-incidents@example.gov.uk',
      to: ['on-call@example.gov.uk', 'leads@example.gov.uk'],
    }).send(declared);

    assert.equal(mails.length, 1);
    const mail = mails[0]!;
    assert.equal(mail.from, 'entitle-incidents@example.gov.uk');
    assert.deepEqual(mail.to, ['on-call@example.gov.uk', 'leads@example.gov.uk']);
    const { headers, body } = readMail(mail.raw);
    assert.equal(headers.subject, '[P1] INC-7: Assessments failing');
    assert.equal(headers.to, 'on-call@example.gov.uk, leads@example.gov.uk');
    assert.match(headers['content-type'] ?? '', /^text\/plain/);
    assert.equal(
      body,
      [
        'Incident declared: Assessments failing',
        '',
        'Priority: P1',
        'Incident: INC-7',
        'Link: https://entitle.example.gov.uk/incidents/INC-7',
        '',
        declared.text,
        '',
        '-- ',
        'Sent by Entitle to the "on-call-email" channel of its escalation policy.',
        '',
      ].join('\n'),
    );
  });

  it('gives up on a server that never greets, without showing the SMTP URL or its password', async () => {
    const port = await silentServer();
    const smtpUrl = `smtp://alert:pa55word@127.0.0.1:${port}`;
    const started = Date.now();
    const error = await new EmailNotifier({
      name: 'on-call-email',
      smtpUrl,
      setting: 'ENTITLE_SMTP_URL',
      from: 'entitle@example.gov.uk',
      to: ['on-call@example.gov.uk'],
      timeoutMs: 200,
    })
      .send(declared)
      .then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      );
    assert.ok(Date.now() - started < 2000);
    assert.ok(error instanceof NotifyError);
    assert.match(
      error.message,
      /email channel "on-call-email" did not take the notification: the SMTP server did not answer in time/,
    );
    assert.equal(error.problems[0]?.field, 'ENTITLE_SMTP_URL');
    assert.ok(!shown(error).includes('pa55word') && !shown(error).includes(smtpUrl));
  });
});

const POLICY = `channels:
  on-call:
    type: webhook
    urlFrom: ONCALL_URL
  managers:
    type: webhook
    urlFrom: MANAGERS_URL
  team-email:
    type: email
    smtpUrlFrom: TEAM_SMTP_URL
    from: entitle-incidents@example.gov.uk
    to: [entitle-team@example.gov.uk]
priorities:
  P1: { notify: [on-call, team-email], escalateAfterMinutes: 15, escalateTo: [managers], respondWithinMinutes: 20, updateEveryMinutes: 60 }
  P2: { notify: [on-call], escalateAfterMinutes: 60, escalateTo: [managers], respondWithinMinutes: 60, updateEveryMinutes: 120 }
  P3: { notify: [team-email], respondWithinMinutes: 120 }
  P4: { notify: [team-email], respondWithinMinutes: 1440 }
`;

/** The problems of a policy that should be refused. */
function problemsOf(text: string): NotifyError['problems'] {
  try {
    parseEscalationPolicy('policy.yml', text);
  } catch (error) {
    assert.ok(error instanceof NotifyError);
    assert.equal(error.code, 'ENTITLE_ESCALATION_POLICY_INVALID');
    return error.problems;
  }
  return assert.fail('expected the policy to be refused');
}

describe('escalation policy', () => {
  it('loads the committed default: on-call at once for P1 and P2, escalated after 15 and 60 minutes; P3 and P4 to the team', async () => {
    const policy = await loadEscalationPolicy({});
    assert.equal(policy.file, 'deploy/incidents/escalation-policy.yml');
    const { P1, P2, P3, P4 } = policy.priorities;
    assert.deepEqual(P1, {
      notify: ['on-call'],
      escalateAfterMinutes: 15,
      escalateTo: ['incident-managers'],
      updateEveryMinutes: 60,
      respondWithinMinutes: 20,
    });
    assert.deepEqual(P2, {
      notify: ['on-call'],
      escalateAfterMinutes: 60,
      escalateTo: ['incident-managers'],
      updateEveryMinutes: 120,
      respondWithinMinutes: 60,
    });
    assert.deepEqual(P3, {
      notify: ['team'],
      escalateAfterMinutes: null,
      escalateTo: [],
      updateEveryMinutes: null,
      respondWithinMinutes: 120,
    });
    assert.deepEqual(P4, {
      notify: ['team'],
      escalateAfterMinutes: null,
      escalateTo: [],
      updateEveryMinutes: null,
      respondWithinMinutes: 1440,
    });
    for (const channel of Object.values(policy.channels)) assert.equal(channel.type, 'webhook');
  });

  it('reads the file ENTITLE_ESCALATION_POLICY names, and says so when it cannot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-policy-'));
    closers.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'policy.yml');
    await writeFile(path, POLICY);
    const policy = await loadEscalationPolicy({ ENTITLE_ESCALATION_POLICY: path });
    assert.deepEqual(policy.channels['team-email'], {
      type: 'email',
      smtpUrlFrom: 'TEAM_SMTP_URL',
      from: 'entitle-incidents@example.gov.uk',
      to: ['entitle-team@example.gov.uk'],
    });

    await assert.rejects(
      loadEscalationPolicy({ ENTITLE_ESCALATION_POLICY: join(dir, 'missing.yml') }),
      (error: unknown) => {
        assert.ok(error instanceof NotifyError);
        assert.equal(error.problems[0]?.field, 'ENTITLE_ESCALATION_POLICY');
        return true;
      },
    );
  });

  it('names the setting, line and column of each problem, all at once', () => {
    const problems = problemsOf(
      POLICY.replace('escalateAfterMinutes: 15', 'escalateAfterMinutes: 0').replace(
        'respondWithinMinutes: 60',
        'respondWithinMinutes: an hour',
      ),
    );
    assert.deepEqual(
      problems.map((p) => [p.field, p.line]),
      [
        ['priorities.P1.escalateAfterMinutes', 14],
        ['priorities.P2.respondWithinMinutes', 15],
      ],
    );
    assert.equal(problems[0]!.message, 'priorities.P1.escalateAfterMinutes: write a whole number of minutes above 0');
    assert.equal(problems[0]!.column, 62);
  });

  it('refuses a priority that names a channel the policy does not define', () => {
    const problems = problemsOf(
      POLICY.replace(
        'escalateTo: [managers], respondWithinMinutes: 20',
        'escalateTo: [incident-managers], respondWithinMinutes: 20',
      ),
    );
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.field, 'priorities.P1.escalateTo[0]');
    assert.match(
      problems[0]!.message,
      /there is no channel named "incident-managers": the channels are on-call, managers, team-email/,
    );
  });

  it('refuses a misspelt setting, half an escalation, and a missing priority', () => {
    const problems = problemsOf(
      POLICY.replace('escalateTo: [managers], respondWithinMinutes: 60', 'respondWithinMinute: 60').replace(
        / {2}P4:.*\n/,
        '',
      ),
    );
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        'priorities.P4: missing: add it (see docs/notifications.md)',
        'priorities.P2.respondWithinMinutes: missing: add it (see docs/notifications.md)',
        'priorities.P2: respondWithinMinute is not a setting here: check the spelling (see docs/notifications.md)',
        'priorities.P2.escalateAfterMinutes: name the channels to escalate to in escalateTo, or remove escalateAfterMinutes',
      ],
    );
  });

  it('refuses a URL written where the name of its environment variable belongs, without repeating it', () => {
    const problems = problemsOf(
      POLICY.replace('urlFrom: ONCALL_URL', 'urlFrom: https://hooks.slack.com/services/T0/B0/s3cr3t'),
    );
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.field, 'channels.on-call.urlFrom');
    assert.match(problems[0]!.message, /name of the environment variable/);
    assert.ok(!JSON.stringify(problems).includes('s3cr3t'));
  });
});

describe('Dispatcher', () => {
  const policy = parseEscalationPolicy('policy.yml', POLICY);

  it('skips channels whose environment variable is unset, as a warning, so a laptop needs none', async () => {
    const dispatcher = Dispatcher.fromEnvironment(policy, {});
    assert.deepEqual(dispatcher.warnings, [
      'channel "on-call" is not configured: set ONCALL_URL to turn it on',
      'channel "managers" is not configured: set MANAGERS_URL to turn it on',
      'channel "team-email" is not configured: set TEAM_SMTP_URL to turn it on',
    ]);
    assert.deepEqual(await dispatcher.notifyNow(declared), [
      { channel: 'on-call', ok: false, warning: 'not configured: set ONCALL_URL to turn it on' },
      { channel: 'team-email', ok: false, warning: 'not configured: set TEAM_SMTP_URL to turn it on' },
    ]);
    assert.deepEqual(await dispatcher.escalate({ ...declared, priority: 'P3' }), []);
  });

  it('tells the priority’s channels at once and escalates to its escalateTo, reporting each without throwing', async () => {
    const onCall = await webhookReceiver();
    const managers = await webhookReceiver(() => {});
    const mail = await smtpReceiver();
    const registry = new Registry();
    const dispatcher = Dispatcher.fromEnvironment(
      policy,
      { ONCALL_URL: onCall.url, MANAGERS_URL: managers.url, TEAM_SMTP_URL: mail.url },
      { registry, webhookTimeoutMs: 200 },
    );
    assert.deepEqual(dispatcher.warnings, []);

    assert.deepEqual(await dispatcher.notifyNow(declared), [
      { channel: 'on-call', ok: true },
      { channel: 'team-email', ok: true },
    ]);
    assert.equal(onCall.received.length, 1);
    assert.deepEqual(mail.mails[0]!.to, ['entitle-team@example.gov.uk']);

    const escalation: Notification = { ...declared, kind: 'escalation', text: 'Not acknowledged in 15 minutes.' };
    const [result, ...others] = await dispatcher.escalate(escalation);
    assert.equal(others.length, 0);
    assert.equal(result!.channel, 'managers');
    assert.equal(result!.ok, false);
    assert.match(
      result!.error ?? '',
      /webhook channel "managers" did not take the notification: no answer within 0.2 s/,
    );
    assert.ok(!JSON.stringify(result).includes(managers.url) && !JSON.stringify(result).includes('127.0.0.1'));

    const counts = (await registry.getSingleMetric('entitle_notifications_total')!.get()).values.map((v) => [
      v.labels.channel,
      v.labels.kind,
      v.labels.result,
      v.value,
    ]);
    assert.deepEqual(counts, [
      ['on-call', 'declared', 'sent', 1],
      ['team-email', 'declared', 'sent', 1],
      ['managers', 'escalation', 'failed', 1],
    ]);
  });

  it('treats a set but unusable URL as not configured, naming the variable and not the value', async () => {
    const dispatcher = Dispatcher.fromEnvironment(policy, { ONCALL_URL: 'not-a-url/s3cr3t' });
    assert.match(
      dispatcher.warnings[0] ?? '',
      /channel "on-call" is not configured: ONCALL_URL is set but is not usable: set it to the https:\/\/ address of an incoming webhook/,
    );
    const [onCall] = await dispatcher.notifyNow(declared);
    assert.ok(onCall!.warning && !onCall!.warning.includes('s3cr3t'));
  });

  it('sends to every channel at once, and hides any URL a notifier’s own error quotes', async () => {
    let running = 0;
    let most = 0;
    const slow = (name: string, fail?: string): Notifier => ({
      name,
      async send() {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 50));
        running -= 1;
        if (fail) throw new Error(fail);
      },
    });
    const dispatcher = new Dispatcher(policy, {
      'on-call': slow('on-call'),
      'team-email': slow('team-email', 'post to https://hooks.example/s3cr3t failed'),
    });
    const results = await dispatcher.notifyNow(declared);
    assert.equal(most, 2);
    assert.deepEqual(results, [
      { channel: 'on-call', ok: true },
      { channel: 'team-email', ok: false, error: 'Error: post to [address hidden] failed' },
    ]);
    assert.deepEqual(dispatcher.warnings, ['channel "managers" is not configured: no notifier was given for it']);
  });
});

describe('tryChannel', () => {
  it('sends the test notification to one channel and says what became of it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-policy-'));
    closers.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'policy.yml');
    await writeFile(path, POLICY);
    const { url, received } = await webhookReceiver();

    assert.deepEqual(await tryChannel('on-call', { ENTITLE_ESCALATION_POLICY: path, ONCALL_URL: url }), {
      status: 0,
      lines: ['channel "on-call" took the test notification: check it arrived'],
    });
    assert.match(received[0]!.body, /Test notification from Entitle/);
    assert.deepEqual(await tryChannel('managers', { ENTITLE_ESCALATION_POLICY: path }), {
      status: 1,
      lines: ['channel "managers": not configured: set MANAGERS_URL to turn it on'],
    });
    assert.deepEqual(await tryChannel('oncall', { ENTITLE_ESCALATION_POLICY: path }), {
      status: 2,
      lines: [`${path} has no channel named "oncall": the channels are on-call, managers, team-email`],
    });
  });
});
