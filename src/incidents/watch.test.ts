import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Dispatcher, parseEscalationPolicy } from '../notify/index.ts';
import { migrate, openPglite } from '../store/index.ts';
import { acknowledgeIncident, declareIncident, IncidentWatch, incidentEntries, updateIncident } from './index.ts';

const POLICY = `
channels:
  on-call: { type: webhook, urlFrom: ONCALL_URL }
  incident-managers: { type: webhook, urlFrom: MANAGERS_URL }
  team: { type: webhook, urlFrom: TEAM_URL }
priorities:
  P1: { notify: [on-call], escalateAfterMinutes: 15, escalateTo: [incident-managers], respondWithinMinutes: 20, updateEveryMinutes: 60 }
  P2: { notify: [on-call], escalateAfterMinutes: 60, escalateTo: [incident-managers], respondWithinMinutes: 60, updateEveryMinutes: 120 }
  P3: { notify: [team], respondWithinMinutes: 120 }
  P4: { notify: [team], respondWithinMinutes: 1440 }
`;

/**
 * A chat service on loopback, one path per channel: records what each channel took, and can
 * refuse a channel's next requests (a chat service having a bad minute).
 */
async function chatReceiver() {
  const received: { channel: string; text: string }[] = [];
  const refusals = new Map<string, number>();
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const channel = request.url!.slice(1);
      const left = refusals.get(channel) ?? 0;
      if (left > 0) {
        refusals.set(channel, left - 1);
        return void response.writeHead(500).end();
      }
      received.push({ channel, text: (JSON.parse(body) as { text: string }).text });
      response.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    received,
    channels: () => received.map((r) => r.channel),
    refuse: (channel: string, times: number) => refusals.set(channel, times),
    env: { ONCALL_URL: `${base}/on-call`, MANAGERS_URL: `${base}/managers`, TEAM_URL: `${base}/team` },
    close: () => server.close(),
  };
}

describe('incident watch', () => {
  it('announces, reminds when a P1 update is overdue, escalates when unacknowledged, each once, and tells the escalation of the resolution, through real webhooks', async () => {
    const chat = await chatReceiver();
    const { received } = chat;
    const db = await openPglite(undefined);
    await migrate(db);
    const log = { info: () => undefined, warn: () => undefined };
    const dispatcher = Dispatcher.fromEnvironment(parseEscalationPolicy('policy.yml', POLICY), chat.env);
    const watch = new IncidentWatch(db, dispatcher, log, 'https://entitle.example');
    try {
      const { incident } = await declareIncident(db, { title: 'Assessments failing', priority: 'P1', actor: 'asha' });
      const at = (minutes: number) => new Date(Date.parse(incident.declaredAt) + minutes * 60_000);
      await watch.tick(at(1));
      assert.deepEqual(
        received.map((r) => r.channel),
        ['on-call'],
        'declared: on-call at once',
      );
      assert.match(received[0]!.text, /Assessments failing/);

      await watch.tick(at(10));
      assert.equal(received.length, 1, 'nothing due yet');
      await watch.tick(at(16));
      assert.deepEqual(
        received.slice(1).map((r) => r.channel),
        ['managers'],
        'not acknowledged in 15 minutes: escalated',
      );
      await watch.tick(at(30));
      assert.equal(received.length, 2, 'escalated once');

      await acknowledgeIncident(db, incident.id, 'asha');
      await watch.tick(at(61));
      assert.deepEqual(
        received.slice(2).map((r) => r.channel),
        ['on-call'],
        'an hour without an update: reminded',
      );
      assert.match(received[2]!.text, /Update due/);
      await watch.tick(at(90));
      assert.equal(received.length, 3, 'reminded once per missed update');
      await watch.tick(at(122));
      assert.equal(received.length, 4, 'and again an hour later while still no update comes');

      await updateIncident(db, incident.id, { actor: 'asha', status: 'resolved', text: 'fixed' });
      await watch.tick(at(123));
      assert.deepEqual(
        received
          .slice(4)
          .map((r) => r.channel)
          .sort(),
        ['managers', 'on-call'],
        'the resolution reaches everyone who was told',
      );
      const kinds = (await incidentEntries(db, incident.id))
        .filter((e) => ['notification', 'reminder', 'escalation'].includes(e.kind))
        .map((e) => `${e.kind}: ${e.text}`);
      assert.deepEqual(kinds, [
        'notification: declared sent to on-call',
        'escalation: escalation sent to incident-managers',
        'reminder: reminder sent to on-call',
        'reminder: reminder sent to on-call',
        'notification: resolved sent to on-call, incident-managers',
      ]);
    } finally {
      await watch.stop();
      await db.close();
      chat.close();
    }
  });

  it("tries a channel that refused again on the next pass without repeating the others, and tells the new priority's people when it rises", async () => {
    const chat = await chatReceiver();
    // The notifier retries once itself: two refusals make the whole attempt fail.
    chat.refuse('on-call', 2);
    const db = await openPglite(undefined);
    await migrate(db);
    const log = { info: () => undefined, warn: () => undefined };
    const policy = parseEscalationPolicy(
      'policy.yml',
      POLICY.replace('P2: { notify: [on-call]', 'P2: { notify: [on-call, team]'),
    );
    const dispatcher = Dispatcher.fromEnvironment(policy, chat.env);
    const watch = new IncidentWatch(db, dispatcher, log);
    try {
      const { incident } = await declareIncident(db, { title: 'Slow assessments', priority: 'P2', actor: 'asha' });
      await watch.tick();
      assert.deepEqual(chat.channels(), ['team'], 'on-call refused; the team has it');
      await watch.tick();
      assert.deepEqual(chat.channels(), ['team', 'on-call'], 'on-call gets it on the next pass, the team not twice');
      await watch.tick();
      assert.equal(chat.received.length, 2, 'delivered everywhere: nothing more');

      const p3 = await declareIncident(db, { title: 'Report job failing', priority: 'P3', actor: 'asha' });
      await watch.tick();
      assert.deepEqual(chat.channels().slice(2), ['team']);
      await updateIncident(db, p3.incident.id, { actor: 'asha', priority: 'P1', text: 'It is blocking assessments' });
      await watch.tick();
      assert.deepEqual(chat.channels().slice(3), ['on-call'], 'raised to P1: on-call is told');
      const entries = (await incidentEntries(db, incident.id))
        .filter((e) => e.kind === 'notification')
        .map((e) => e.text);
      assert.deepEqual(entries, ['declared sent to team; failed: on-call (will retry)', 'declared sent to on-call']);
    } finally {
      await watch.stop();
      await db.close();
      chat.close();
    }
  });
});
