import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { NO_CHANGES } from '../comparison/index.ts';
import { approveFlagChange, recordEnvironment, requestFlagChange } from '../flags/index.ts';
import { declareIncident, updateIncident, type Incident } from '../incidents/index.ts';
import { createKey, revokeKey } from '../keys/index.ts';
import { createRelease, seedActiveVersions, startShadow } from '../releases/index.ts';
import { SLOS } from '../slos/index.ts';
import { openPglite, withFaults } from '../store/index.ts';
import { compile, taper, testService, ucBundle, type TestService } from '../testing/index.ts';
import { publicStatus, type JourneyState, type PublicStatus } from './public-status.ts';
import { idleMinutesFrom, SessionSealer } from './session.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const [AVAILABILITY, LATENCY, RECORDED, CONSISTENT] = SLOS.map((slo) => slo.id) as [string, string, string, string];

/** Signs in with a key through the form; the session cookie as a Cookie header. */
async function signIn(service: TestService, key: string): Promise<string> {
  const response = await service.app.inject({
    method: 'POST',
    url: '/ops/sign-in',
    headers: FORM,
    payload: new URLSearchParams({ apiKey: key }).toString(),
  });
  assert.equal(response.statusCode, 303, response.body);
  return String(response.headers['set-cookie']).split(';')[0]!;
}

/** Each journey's public state as the HTML page shows it: name, then the tag's text. */
function pageStates(html: string): Record<string, string> {
  const states: Record<string, string> = {};
  for (const m of html.matchAll(
    /govuk-summary-list__key">\s*([^<]+?)\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*<strong class="govuk-tag[^"]*">\s*([^<]+?)\s*<\/strong>/g,
  ))
    states[m[1]!] = m[2]!;
  return states;
}

/** A pattern the page must match, without printing the whole page when it does not. */
function contains(html: string, pattern: RegExp, message?: string): void {
  assert.ok(pattern.test(html), message ?? `the page does not match ${pattern}`);
}

function nameOf(id: string): string {
  return SLOS.find((slo) => slo.id === id)!.publicName!;
}

describe('public status', () => {
  const at = (minutesAgo: number) => new Date(Date.parse('2026-05-14T12:00:00Z') - minutesAgo * 60_000).toISOString();
  const incident = (priority: 'P1' | 'P2' | 'P3' | 'P4', journeys: string[]) =>
    ({
      id: 'INC-1',
      title: 'internal',
      priority,
      status: 'investigating',
      citizenMessage: null,
      benefits: [],
      journeys,
      roles: [],
      source: 'manual',
      releaseIds: [],
      runbook: null,
      startedAt: at(10),
      declaredAt: at(10),
      declaredBy: 'x',
      acknowledgedAt: null,
      acknowledgedBy: null,
      lastUpdateAt: at(5),
      resolvedAt: null,
      reviewedAt: null,
      reviewDueAt: null,
    }) as const;
  const states = (status: PublicStatus) => Object.fromEntries(status.journeys.map((j) => [j.id, j.state]));
  const all = (state: JourneyState) => ({
    [AVAILABILITY]: state,
    [LATENCY]: state,
    [RECORDED]: state,
    [CONSISTENT]: state,
  });
  const now = new Date('2026-05-14T12:00:00Z');

  const cases: [string, Incident[], Record<string, JourneyState>][] = [
    ['no incidents', [], all('working')],
    ['a P1 on one journey', [incident('P1', [AVAILABILITY])], { ...all('working'), [AVAILABILITY]: 'not-working' }],
    ['a P2 on one journey', [incident('P2', [LATENCY])], { ...all('working'), [LATENCY]: 'some-problems' }],
    ['a P3 or P4 naming no journeys', [incident('P3', []), incident('P4', [])], all('working')],
    ['a P1 naming no journeys', [incident('P1', [])], all('not-working')],
    [
      'the worst of a P2 on all and a P1 on one',
      [incident('P2', []), incident('P1', [RECORDED])],
      { ...all('some-problems'), [RECORDED]: 'not-working' },
    ],
    [
      'a P1 alert naming no journey (until a person names them)',
      [{ ...incident('P1', []), source: 'alertmanager' }],
      all('working'),
    ],
    [
      'a P1 alert naming its journey',
      [{ ...incident('P1', [AVAILABILITY]), source: 'alertmanager' }],
      { ...all('working'), [AVAILABILITY]: 'not-working' },
    ],
  ];
  for (const [name, open, expected] of cases) {
    it(`derives each journey's state: ${name}`, () =>
      assert.deepEqual(states(publicStatus(SLOS, open, [], now)), expected));
  }

  it('shows messages of open incidents, and of those resolved in the last 7 days only', () => {
    const open = [{ ...incident('P3', []), citizenMessage: 'Letters are late.' }, incident('P2', [])];
    const recent = [
      {
        ...incident('P1', []),
        status: 'resolved',
        citizenMessage: 'Fixed: decisions were unavailable.',
        resolvedAt: at(60),
      },
      { ...incident('P1', []), status: 'resolved', citizenMessage: 'Too old to show.', resolvedAt: at(8 * 24 * 60) },
      { ...incident('P2', []), status: 'resolved', citizenMessage: null, resolvedAt: at(30) },
    ] as const;
    const status = publicStatus(SLOS, open, recent, now);
    assert.deepEqual(status.messages, [{ message: 'Letters are late.', updatedAt: at(5) }]);
    assert.deepEqual(status.resolved, [{ message: 'Fixed: decisions were unavailable.', resolvedAt: at(60) }]);
  });
});

describe('status page over HTTP', () => {
  it('shows P1, P2 and P3 incidents as citizens see them, with no internal detail', async () => {
    const service = await testService();
    try {
      await declareIncident(service.db, {
        title: 'Primary database failover SECRET-TITLE',
        priority: 'P1',
        actor: 'alertmanager',
        journeys: [AVAILABILITY],
        lead: 'Alice Lead',
        citizenMessage: 'You cannot get a decision <now>. We are fixing it.',
        text: 'EntitleAvailabilityPageFast fired',
      });
      await declareIncident(service.db, { title: 'Slow responses', priority: 'P2', actor: 'bob', journeys: [LATENCY] });
      await declareIncident(service.db, { title: 'Backup job failing', priority: 'P3', actor: 'bob', journeys: [] });
      const fixed = await declareIncident(service.db, {
        title: 'Old trouble',
        priority: 'P2',
        actor: 'bob',
        citizenMessage: 'Some decisions were slow on Tuesday.',
      });
      await updateIncident(service.db, fixed.incident.id, {
        actor: 'bob',
        status: 'resolved',
        text: 'restarted, verified by the probe',
      });

      const page = await service.app.inject('/status');
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.deepEqual(pageStates(page.body), {
        [nameOf(AVAILABILITY)]: 'Not working',
        [nameOf(LATENCY)]: 'Some people may have problems',
        [nameOf(RECORDED)]: 'Working normally',
        [nameOf(CONSISTENT)]: 'Working normally',
      });
      contains(page.body, /<title>Service status – Entitle<\/title>/);
      contains(page.body, /<html lang="en-GB"/);
      contains(page.body, /Last updated: <time datetime="[^"]+">\d{1,2} \w+ \d{4} at [^<]+<\/time> \(UK time\)/);
      contains(page.body, /You cannot get a decision &lt;now&gt;\. We are fixing it\./, 'messages are escaped');
      contains(page.body, /Problems fixed in the last 7 days[\s\S]*Some decisions were slow on Tuesday\./);
      for (const secret of [
        'SECRET-TITLE',
        'Alice Lead',
        'EntitleAvailabilityPageFast',
        'P1',
        'P2',
        'P3',
        'INC-',
        'bob',
        'alertmanager',
      ]) {
        assert.ok(!page.body.includes(secret), `the page shows ${secret}`);
      }

      const json = await service.app.inject('/status.json');
      assert.equal(json.statusCode, 200);
      const body = json.json<{
        current: boolean;
        journeys: { id: string; state: string }[];
        messages: unknown[];
        resolved: unknown[];
      }>();
      assert.equal(body.current, true);
      assert.deepEqual(Object.fromEntries(body.journeys.map((j) => [j.id, j.state])), {
        [AVAILABILITY]: 'not-working',
        [LATENCY]: 'some-problems',
        [RECORDED]: 'working',
        [CONSISTENT]: 'working',
      });
      assert.equal(body.messages.length, 1);
      assert.equal(body.resolved.length, 1);
      for (const secret of ['SECRET-TITLE', 'Alice Lead', 'P1', 'INC-'])
        assert.ok(!json.body.includes(secret), `the JSON shows ${secret}`);
    } finally {
      await service.close();
    }
  });

  it('is public, not rate-limited, and allows only its own inline script', async () => {
    const service = await testService();
    try {
      const page = await service.app.inject('/status');
      assert.equal(page.headers['x-ratelimit-limit'], undefined);
      // The same page for everyone, cacheable for 5 s: its one inline script is allowed by hash.
      const scripts = [...page.body.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
      assert.equal(scripts.length, 1, 'only the template script');
      const hash = createHash('sha256').update(scripts[0]!).digest('base64');
      assert.match(
        String(page.headers['content-security-policy']),
        new RegExp(`script-src 'self' 'sha256-${hash.replace(/[+/]/g, (c) => `\\${c}`)}'(;|$)`),
      );
      assert.match(String(page.headers['cache-control']), /public, max-age=5/);
      assert.ok(!/ style="/.test(page.body), 'no inline styles');
      assert.ok(!/<script(?! src)[^>]/.test(page.body.replace(/<script>/g, '')), 'no other inline script');
      for (const url of [
        '/stylesheets/govuk-frontend.min.css',
        '/stylesheets/entitle.css',
        '/assets/fonts/bold-b542beb274-v2.woff2',
        '/assets/images/favicon.svg',
        '/assets/manifest.json',
      ]) {
        const asset = await service.app.inject(url);
        assert.equal(asset.statusCode, 200, url);
        assert.equal(asset.headers['x-ratelimit-limit'], undefined, url);
      }
      assert.match(
        String((await service.app.inject('/assets/fonts/bold-b542beb274-v2.woff2')).headers['cache-control']),
        /immutable/,
      );
      assert.equal((await service.app.inject('/assets/../../package.json')).statusCode, 404);
      assert.equal((await service.app.inject('/stylesheets/index.scss')).statusCode, 404);
    } finally {
      await service.close();
    }
  });

  it('serves the last known status, with a notice and a 200, while the database does not answer', async () => {
    const faults = withFaults(await openPglite(undefined));
    const service = await testService({ faults }, faults.db);
    try {
      await declareIncident(service.db, {
        title: 'Outage',
        priority: 'P1',
        actor: 'bob',
        citizenMessage: 'Decisions are unavailable.',
      });
      const before = await service.app.inject('/status');
      assert.equal(pageStates(before.body)[nameOf(AVAILABILITY)], 'Not working');
      assert.ok(!before.body.includes('could not check'));

      faults.setDatabaseDown(true);
      await sleep(5_100); // past the 5-second cache
      const during = await service.app.inject('/status');
      assert.equal(during.statusCode, 200);
      assert.equal(pageStates(during.body)[nameOf(AVAILABILITY)], 'Not working');
      contains(during.body, /We could not check the status of the service just now/);
      contains(during.body, /The information on this page is from <time/);
      assert.ok(!/InjectedFault|test fault|stack|at async/.test(during.body), 'no error detail');
      const json = await service.app.inject('/status.json');
      assert.equal(json.statusCode, 200);
      assert.equal(json.json<{ current: boolean }>().current, false);

      faults.setDatabaseDown(false);
      await sleep(5_100);
      assert.ok(!(await service.app.inject('/status')).body.includes('could not check'));
    } finally {
      await service.close();
    }
  });

  it('says it cannot check, still with a 200, when the database has never answered', async () => {
    const faults = withFaults(await openPglite(undefined));
    const service = await testService({ faults }, faults.db);
    try {
      faults.setDatabaseDown(true);
      const page = await service.app.inject('/status');
      assert.equal(page.statusCode, 200);
      contains(page.body, /We cannot check the status of the service right now/);
      const json = await service.app.inject('/status.json');
      assert.equal(json.statusCode, 503);
      assert.equal(json.json<{ code: string }>().code, 'ENTITLE_STORE_UNAVAILABLE');
    } finally {
      await service.close();
    }
  });
});

describe('operations console', () => {
  it('sends a signed-out visitor to sign in, and back to the page they asked for', async () => {
    const service = await testService();
    try {
      for (const url of ['/ops', '/ops/incidents', '/ops/incidents/INC-1', '/ops/releases', '/ops/flags']) {
        const response = await service.app.inject(url);
        assert.equal(response.statusCode, 303, url);
        assert.equal(
          response.headers.location,
          url === '/ops' ? '/ops/sign-in' : `/ops/sign-in?next=${encodeURIComponent(url)}`,
        );
      }
      const form = await service.app.inject('/ops/sign-in?next=/ops/releases');
      contains(form.body, /<title>Sign in – Entitle<\/title>/);
      contains(form.body, /<input type="hidden" name="next" value="\/ops\/releases">/);
      const payload = new URLSearchParams({ apiKey: service.keys.operator, next: '/ops/releases' }).toString();
      const back = await service.app.inject({ method: 'POST', url: '/ops/sign-in', headers: FORM, payload });
      assert.equal(back.headers.location, '/ops/releases');
      const elsewhere = await service.app.inject({
        method: 'POST',
        url: '/ops/sign-in',
        headers: FORM,
        payload: new URLSearchParams({ apiKey: service.keys.operator, next: '//evil.example/ops' }).toString(),
      });
      assert.equal(elsewhere.headers.location, '/ops');
    } finally {
      await service.close();
    }
  });

  it('signs in with a key of a console role, in a cookie that holds no key', async () => {
    const service = await testService();
    try {
      const response = await service.app.inject({
        method: 'POST',
        url: '/ops/sign-in',
        headers: FORM,
        payload: `apiKey=${service.keys.auditor}`,
      });
      assert.equal(response.statusCode, 303);
      assert.equal(response.headers.location, '/ops');
      const cookie = String(response.headers['set-cookie']);
      assert.match(cookie, /^entitle_ops=[\w-]+\.[\w-]+; Max-Age=28800; Path=\/ops; HttpOnly; SameSite=Strict$/);
      assert.ok(!cookie.includes(service.keys.auditor.slice(4, 20)));
      const payload = JSON.parse(Buffer.from(cookie.split('=')[1]!.split('.')[0]!, 'base64url').toString()) as {
        name: string;
        roles: string[];
        expiresAt: number;
      };
      assert.equal(payload.name, 'test-auditor');
      assert.deepEqual(payload.roles, ['auditor']);
      assert.ok(Math.abs(payload.expiresAt - (Date.now() + 8 * 3600_000)) < 60_000);

      const secure = await service.app.inject({
        method: 'POST',
        url: '/ops/sign-in',
        headers: { ...FORM, 'x-forwarded-proto': 'https' },
        payload: `apiKey=${service.keys.operator}`,
      });
      assert.match(String(secure.headers['set-cookie']), /; Secure/);
      // Behind a proxy that does not say https, the cookie is still Secure: only local plain HTTP goes without.
      const proxied = await service.app.inject({
        method: 'POST',
        url: '/ops/sign-in',
        headers: { ...FORM, host: 'entitle.service.gov.uk' },
        payload: `apiKey=${service.keys.operator}`,
      });
      assert.match(String(proxied.headers['set-cookie']), /; Secure/);
      // A form posted from another site signs nobody in or out.
      for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { origin: 'https://evil.example' }]) {
        const forged = await service.app.inject({
          method: 'POST',
          url: '/ops/sign-in',
          headers: { ...FORM, ...headers },
          payload: `apiKey=${service.keys.operator}`,
        });
        assert.equal(forged.statusCode, 403);
        assert.equal(forged.headers['set-cookie'], undefined);
        assert.equal(
          (await service.app.inject({ method: 'POST', url: '/ops/sign-out', headers: { ...FORM, ...headers } }))
            .statusCode,
          403,
        );
      }

      const overview = await service.app.inject({ url: '/ops', headers: { cookie: cookie.split(';')[0]! } });
      assert.equal(overview.statusCode, 200);
      contains(overview.body, /Signed in with the key <strong>test-auditor<\/strong>/);
      assert.equal(overview.headers['cache-control'], 'no-store');

      const out = await service.app.inject({
        method: 'POST',
        url: '/ops/sign-out',
        headers: { cookie: cookie.split(';')[0]! },
      });
      assert.equal(out.statusCode, 303);
      assert.equal(out.headers.location, '/ops/sign-in?signedOut=yes');
      assert.match(
        String(out.headers['set-cookie']),
        /^entitle_ops=; Max-Age=0; Path=\/ops; .*Expires=Thu, 01 Jan 1970/,
      );
      contains((await service.app.inject(String(out.headers.location))).body, /You have signed out\./);
    } finally {
      await service.close();
    }
  });

  it('shows the form again with an error summary naming the field for a missing, wrong or unsuitable key', async () => {
    const service = await testService();
    try {
      const cases: [string, number, RegExp][] = [
        ['', 400, /Enter your API key/],
        ['ent_not-a-real-key', 400, /Enter a valid API key/],
        ['nonsense', 400, /Enter a valid API key/],
        [service.keys.assessor, 403, /Enter a key with the operator, admin, auditor, approver or policy author role/],
      ];
      for (const [key, status, message] of cases) {
        const response = await service.app.inject({
          method: 'POST',
          url: '/ops/sign-in',
          headers: FORM,
          payload: new URLSearchParams({ apiKey: key }).toString(),
        });
        assert.equal(response.statusCode, status, key);
        assert.equal(response.headers['set-cookie'], undefined);
        contains(response.body, /<title>Error: Sign in – Entitle<\/title>/);
        contains(response.body, /govuk-error-summary[\s\S]*There is a problem[\s\S]*<a href="#api-key">/);
        contains(response.body, message);
        contains(response.body, /<p id="api-key-error" class="govuk-error-message">/);
        contains(response.body, /class="govuk-input govuk-input--error" id="api-key" name="apiKey" type="password"/);
        assert.ok(!response.body.includes(key) || key === '', 'the key is not echoed back');
      }
    } finally {
      await service.close();
    }
  });

  it('refuses a tampered, forged, expired or revoked session', async () => {
    const service = await testService();
    try {
      const cookie = await signIn(service, service.keys.operator);
      const [payload, mac] = cookie.slice('entitle_ops='.length).split('.') as [string, string];
      const session = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const promoted = Buffer.from(JSON.stringify({ ...session, name: 'root', roles: ['admin'] })).toString(
        'base64url',
      );
      const expired = new SessionSealer('someone else').seal({
        sid: String(session.sid),
        id: String(session.id),
        name: 'x',
        roles: ['admin'],
        expiresAt: Date.now() + 1000,
      });
      const flipped = `${mac.slice(0, -2)}${mac.endsWith('AA') ? 'BB' : 'AA'}`;
      for (const forged of [
        `${promoted}.${mac}`,
        `${payload}.${flipped}`,
        expired,
        `${payload}`,
        `${payload}.${mac}.x`,
        'garbage',
      ]) {
        const response = await service.app.inject({ url: '/ops', headers: { cookie: `entitle_ops=${forged}` } });
        assert.equal(response.statusCode, 303, forged);
        assert.equal(response.headers.location, '/ops/sign-in');
        assert.match(String(response.headers['set-cookie']), /^entitle_ops=; Max-Age=0/, 'the bad cookie is cleared');
      }
      assert.equal((await service.app.inject({ url: '/ops', headers: { cookie } })).statusCode, 200);
      await revokeKey(service.db, 'test-operator');
      assert.equal(
        (await service.app.inject({ url: '/ops', headers: { cookie } })).statusCode,
        303,
        'a revoked key ends its sessions',
      );
    } finally {
      await service.close();
    }
  });

  it('seals sessions that open only with a secret of the ring and before they expire', () => {
    const sealer = new SessionSealer('a secret long enough to be a secret');
    const session = { sid: 's', id: 'k', name: 'n', roles: ['operator'] as const, expiresAt: Date.now() + 60_000 };
    assert.deepEqual(sealer.open(sealer.seal(session)), session);
    assert.equal(sealer.open(sealer.seal(session), session.expiresAt), undefined);
    assert.equal(new SessionSealer('another').open(sealer.seal(session)), undefined);
    assert.equal(
      sealer.open(sealer.seal({ ...session, roles: ['assessor'] as never })),
      undefined,
      'a role that may not use the console',
    );
    assert.equal(sealer.open(undefined), undefined);

    // Rotation: the new secret added second opens what the old one sealed; moved first, it seals,
    // and the old one still opens the sessions already out; dropped, those no longer open.
    const old = 'the old secret, long enough to be a secret';
    const fresh = 'the new secret, long enough to be a secret';
    const before = new SessionSealer(old).seal(session);
    const adding = new SessionSealer(`${old}\n${fresh}`);
    const switched = new SessionSealer(`${fresh}\n${old}`);
    const after = new SessionSealer(fresh);
    assert.deepEqual(adding.open(before), session);
    assert.deepEqual(switched.open(before), session);
    assert.deepEqual(adding.open(switched.seal(session)), session, 'an instance not yet switched opens the new seal');
    assert.deepEqual(after.open(switched.seal(session)), session);
    assert.equal(after.open(before), undefined);
  });

  it('ends a session on the server when its holder signs out: a copy of the cookie opens nothing', async () => {
    const service = await testService();
    try {
      const cookie = await signIn(service, service.keys.operator);
      assert.equal((await service.app.inject({ url: '/ops', headers: { cookie } })).statusCode, 200);
      const out = await service.app.inject({ method: 'POST', url: '/ops/sign-out', headers: { cookie } });
      assert.equal(out.statusCode, 303);
      const replayed = await service.app.inject({ url: '/ops/releases', headers: { cookie } });
      assert.equal(replayed.statusCode, 303, 'the copied cookie is refused');
      assert.equal(replayed.headers.location, '/ops/sign-in?next=%2Fops%2Freleases');
      const { rows } = await service.db.query<{ end_reason: string }>('SELECT end_reason FROM console_sessions');
      assert.deepEqual(
        rows.map((r) => r.end_reason),
        ['signed-out'],
      );
      // Another session of the same key is its own: signing out of one leaves the other.
      const first = await signIn(service, service.keys.operator);
      const second = await signIn(service, service.keys.operator);
      await service.app.inject({ method: 'POST', url: '/ops/sign-out', headers: { cookie: first } });
      assert.equal((await service.app.inject({ url: '/ops', headers: { cookie: second } })).statusCode, 200);
      assert.equal((await service.app.inject({ url: '/ops', headers: { cookie: first } })).statusCode, 303);
    } finally {
      await service.close();
    }
  });

  it('ends a session left idle past the timeout, says why, and keeps one that is used or extended', async () => {
    const service = await testService({ web: { idleSeconds: 180, warningSeconds: 60 } });
    try {
      const cookie = await signIn(service, service.keys.operator);
      const page = await service.app.inject({ url: '/ops', headers: { cookie } });
      contains(page.body, /<dialog id="entitle-timeout"[\s\S]*data-idle-seconds="180" data-warning-seconds="60"/);
      contains(page.body, /<script type="module" src="\/scripts\/session-timeout.js"><\/script>/);
      const script = await service.app.inject('/scripts/session-timeout.js');
      assert.equal(script.statusCode, 200);
      assert.match(String(script.headers['content-type']), /javascript/);
      assert.equal((await service.app.inject('/scripts/other.js')).statusCode, 404);
      const signInForm = await service.app.inject('/ops/sign-in');
      assert.ok(!signInForm.body.includes('entitle-timeout'), 'no warning before signing in');

      // How long is left: asking does not keep the session alive.
      const left = async () =>
        (await service.app.inject({ url: '/ops/session', headers: { cookie } })).json<{
          signedIn: boolean;
          secondsLeft?: number;
        }>();
      const status = await left();
      assert.equal(status.signedIn, true);
      assert.ok(status.secondsLeft! > 170 && status.secondsLeft! <= 180, String(status.secondsLeft));
      // Set the last use back, as if the person left the console 2 minutes ago.
      const ago = (seconds: number) =>
        service.db.query('UPDATE console_sessions SET last_seen_at = $1', [
          new Date(Date.now() - seconds * 1000).toISOString(),
        ]);
      await ago(120);
      assert.ok((await left()).secondsLeft! <= 60);
      assert.ok((await left()).secondsLeft! <= 60, 'asking twice did not extend it');
      // "Stay signed in" extends it, from the console only.
      const forged = await service.app.inject({
        method: 'POST',
        url: '/ops/session/extend',
        headers: { cookie, 'sec-fetch-site': 'cross-site' },
      });
      assert.equal(forged.statusCode, 403);
      const extended = await service.app.inject({
        method: 'POST',
        url: '/ops/session/extend',
        headers: { cookie, 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(extended.statusCode, 200);
      assert.ok((await left()).secondsLeft! > 170);

      // Idle past the timeout: ended on the server, and the sign-in page says why.
      await ago(181);
      const idle = await service.app.inject({ url: '/ops/flags', headers: { cookie } });
      assert.equal(idle.statusCode, 303);
      assert.equal(idle.headers.location, '/ops/sign-in?timedOut=yes&next=%2Fops%2Fflags');
      contains(
        (await service.app.inject(String(idle.headers.location))).body,
        /For your security, we signed you out because you did not use the console for 3 minutes\. Sign in again to continue\./,
      );
      await ago(0);
      assert.equal(
        (await service.app.inject({ url: '/ops', headers: { cookie } })).statusCode,
        303,
        'ended stays ended',
      );
      assert.deepEqual(await left(), { signedIn: false });
      assert.equal(
        (await service.app.inject({ method: 'POST', url: '/ops/session/extend', headers: { cookie } })).statusCode,
        401,
      );
      const { rows } = await service.db.query<{ end_reason: string }>('SELECT end_reason FROM console_sessions');
      assert.deepEqual(
        rows.map((r) => r.end_reason),
        ['idle'],
      );
    } finally {
      await service.close();
    }
  });

  it('never outlives its key: a session ends no later than the key expires', async () => {
    const service = await testService();
    try {
      const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
      const { key } = await createKey(service.db, 'short-lived', ['operator'], 'test', undefined, { expiresAt });
      const response = await service.app.inject({
        method: 'POST',
        url: '/ops/sign-in',
        headers: FORM,
        payload: new URLSearchParams({ apiKey: key }).toString(),
      });
      assert.match(String(response.headers['set-cookie']), /Max-Age=(3599|3600);/, 'an hour, not eight');
      const cookie = String(response.headers['set-cookie']).split(';')[0]!;
      assert.equal((await service.app.inject({ url: '/ops', headers: { cookie } })).statusCode, 200);
      // The key expires (the end of a rotation's overlap): its session ends with it.
      await service.db.query("UPDATE api_keys SET expires_at = $1 WHERE name = 'short-lived'", [
        new Date(Date.now() - 1000).toISOString(),
      ]);
      assert.equal((await service.app.inject({ url: '/ops', headers: { cookie } })).statusCode, 303);
    } finally {
      await service.close();
    }
  });

  it('refuses an idle timeout that is not a whole number of minutes from 3 to 480', () => {
    assert.equal(idleMinutesFrom(undefined), 15);
    assert.equal(idleMinutesFrom('30'), 30);
    for (const bad of ['0', '2', '481', '1.5', 'ten'])
      assert.throws(() => idleMinutesFrom(bad), /ENTITLE_CONSOLE_IDLE_MINUTES is not valid/, bad);
  });

  it('shows open incidents, releases under test, objectives, every incident and one in full', async () => {
    const service = await testService();
    try {
      const p1 = await declareIncident(service.db, {
        title: 'Assessments failing',
        priority: 'P1',
        actor: 'alertmanager',
        lead: 'Alice Lead',
        communicationsLead: 'Carol Comms',
        citizenMessage: 'You cannot get a decision.',
        journeys: [AVAILABILITY],
        text: 'declared <b>loudly</b>',
      });
      const old = await declareIncident(service.db, { title: 'Old and resolved', priority: 'P3', actor: 'bob' });
      await updateIncident(service.db, old.incident.id, { actor: 'bob', status: 'resolved', text: 'fixed' });
      await seedActiveVersions(service.db, [service.context.ruleSets.get('universal-credit')!.program]);
      const release = await createRelease(service.db, {
        program: compile(taper(await ucBundle(), '57%')).program,
        author: 'Priya Author',
        summary: 'Taper to 57%',
        effectiveAt: '2026-04-06T00:00:00.000Z',
        expectations: NO_CHANGES,
        golden: { total: 1, failed: [] },
      });
      await startShadow(service.db, release.id, { sharePercent: 10, preview: false }, 'Priya Author', 'compare');
      const cookie = await signIn(service, service.keys.operator);
      const get = (url: string) => service.app.inject({ url, headers: { cookie } });

      const overview = await get('/ops');
      assert.equal(overview.statusCode, 200);
      contains(overview.body, /<title>Overview – Entitle<\/title>/);
      contains(
        overview.body,
        new RegExp(`href="/ops/incidents/${p1.incident.id}">${p1.incident.id}</a><br>Assessments failing`),
      );
      contains(overview.body, /Alice Lead/);
      assert.ok(!overview.body.includes('Old and resolved'), 'resolved incidents are not open');
      contains(overview.body, new RegExp(release.id));
      contains(overview.body, /Shadow[\s\S]*10% compared/);
      assert.ok(!overview.body.includes('Priya Author'), 'release pages name no people');
      for (const slo of SLOS) assert.ok(overview.body.includes(slo.journey), slo.id);
      contains(overview.body, /Prometheus is not configured/);

      const list = await get('/ops/incidents');
      contains(list.body, /Old and resolved[\s\S]*Assessments failing/, 'newest first');

      const detail = await get(`/ops/incidents/${p1.incident.id}`);
      assert.equal(detail.statusCode, 200);
      contains(detail.body, new RegExp(`<title>${p1.incident.id}: Assessments failing – Entitle</title>`));
      contains(detail.body, /Message on the status page[\s\S]*You cannot get a decision\./);
      contains(detail.body, /Incident lead[\s\S]*Alice Lead[\s\S]*Communications lead[\s\S]*Carol Comms/);
      contains(detail.body, /declared &lt;b&gt;loudly&lt;\/b&gt;/, 'timeline text is escaped');
      contains(detail.body, new RegExp(SLOS.find((s) => s.id === AVAILABILITY)!.journey));

      const releases = await get('/ops/releases');
      contains(releases.body, new RegExp(`${release.id}[\\s\\S]*universal-credit[\\s\\S]*Taper to 57%`));
      assert.ok(!releases.body.includes('Priya Author'));

      const missing = await get('/ops/incidents/INC-999');
      assert.equal(missing.statusCode, 404);
      contains(missing.body, /<title>Page not found – Entitle<\/title>/);
      const nowhere = await get('/ops/nowhere');
      assert.equal(nowhere.statusCode, 404);
      contains(nowhere.body, /Page not found/);
      const nonce = /<script nonce="([^"]+)">/.exec(nowhere.body)?.[1];
      assert.match(
        String(nowhere.headers['content-security-policy']),
        new RegExp(`script-src 'self' 'nonce-${nonce}'`),
        'a 404 page has a nonce too',
      );
    } finally {
      await service.close();
    }
  });

  it('shows every flag with its owner and expiry, the changes waiting for a second person, and what pressure drops', async () => {
    const service = await testService();
    try {
      await requestFlagChange(service.db, {
        key: 'explanation-traces',
        settings: { rolloutBasisPoints: 2_500, expiresOn: '2020-01-31' },
        actor: 'Priya Operator',
        reason: 'trial traces',
      });
      await recordEnvironment(service.db, 'production', 'entitle');
      const { change } = await requestFlagChange(service.db, {
        key: 'replay-and-reports',
        settings: { enabled: false },
        actor: 'Priya Operator',
        reason: 'reports <b>slow</b> at peak',
      });
      await service.context.flags.sync();
      const cookie = await signIn(service, service.keys.operator);

      const page = await service.app.inject({ url: '/ops/flags', headers: { cookie } });
      assert.equal(page.statusCode, 200);
      contains(page.body, /<title>Feature flags – Entitle<\/title>/);
      contains(page.body, /aria-current="page"[^>]*>\s*<strong[^>]*>Feature flags/, 'the navigation marks the page');
      contains(
        page.body,
        /explanation-traces[\s\S]*?On for 25% of applications[\s\S]*?assessment-service[\s\S]*?2020-01-31[\s\S]*?Past its expiry/,
      );
      contains(
        page.body,
        new RegExp(
          `${change.id}[\\s\\S]*?replay-and-reports[\\s\\S]*?On to Off[\\s\\S]*?reports &lt;b&gt;slow&lt;/b&gt; at peak`,
        ),
      );
      contains(page.body, /Shadow evaluation of releases under test[\s\S]*?Running/);
      contains(page.body, /Requests waiting[\s\S]*?0 \(at most 64/);
      assert.ok(!page.body.includes('Priya Operator'), 'flag pages name no people');

      // A kill switch turned off shows as switched off, not as pressure.
      await approveFlagChange(service.db, change.id, 'Sam Approver', 'agreed');
      await service.context.flags.sync();
      const after = await service.app.inject({ url: '/ops/flags', headers: { cookie } });
      contains(after.body, /Decision replay and reports[\s\S]*?Switched off by its flag/);
      contains(after.body, /No flag change is waiting for approval/);
    } finally {
      await service.close();
    }
  });

  it('shows a page saying the service is unavailable, never an error, when the database is down', async () => {
    const faults = withFaults(await openPglite(undefined));
    const service = await testService({ faults }, faults.db);
    try {
      const cookie = await signIn(service, service.keys.operator);
      faults.setDatabaseDown(true);
      const page = await service.app.inject({ url: '/ops/incidents', headers: { cookie } });
      assert.equal(page.statusCode, 503);
      contains(page.body, /<title>Sorry, the service is unavailable – Entitle<\/title>/);
      assert.ok(!/InjectedFault|test fault|at async/.test(page.body));
      // Keys read less than a second ago answer for themselves; after that an unknown key needs
      // the database, which cannot answer.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const signInNow = await service.app.inject({
        method: 'POST',
        url: '/ops/sign-in',
        headers: FORM,
        payload: 'apiKey=ent_unknown',
      });
      assert.equal(signInNow.statusCode, 503);
    } finally {
      await service.close();
    }
  });

  it('shows the error budget left per journey from Prometheus, or says Prometheus did not answer', async () => {
    // A stand-in Prometheus: each SLO's bad events are 1 in 10,000 of all events.
    const prometheus = createServer((request, response) => {
      const url = new URL(request.url!, 'http://prometheus');
      const query = url.searchParams.get('query')?.replace(/\[\d+[smhd]\]/g, '[$w]');
      const body =
        url.pathname === '/api/v1/alerts'
          ? { data: { alerts: [] } }
          : { data: { result: [{ value: [0, SLOS.some((slo) => slo.bad === query) ? '1' : '10000'] }] } };
      response.setHeader('content-type', 'application/json').end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
    const overview = async (prometheusUrl: string) => {
      process.env.PROMETHEUS_URL = prometheusUrl;
      const service = await testService();
      try {
        return (
          await service.app.inject({ url: '/ops', headers: { cookie: await signIn(service, service.keys.operator) } })
        ).body;
      } finally {
        delete process.env.PROMETHEUS_URL;
        await service.close();
      }
    };
    try {
      const reachable = await overview(`http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`);
      contains(reachable, /Error budget left/);
      contains(
        reachable,
        /A citizen gets an assessment<\/th>[\s\S]*?90\.0%/,
        '99.9% objective, 0.01% bad: 90% of the budget left',
      );
      contains(reachable, /A citizen gets an assessment quickly<\/th>[\s\S]*?99\.0%/);
      contains(reachable, /Every decision is recorded and verifiable<\/th>[\s\S]*?0\.0%/);
      const unreachable = await overview('http://127.0.0.1:1');
      contains(unreachable, /Prometheus at http:\/\/127\.0\.0\.1:1 did not answer, so error budgets are not shown/);
      assert.ok(!unreachable.includes('Error budget left'));
    } finally {
      prometheus.close();
    }
  });
});
