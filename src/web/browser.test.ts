import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import axe from 'axe-core';
import { chromium, type Browser, type Page } from 'playwright-core';
import { NO_CHANGES } from '../comparison/index.ts';
import { declareIncident, updateIncident } from '../incidents/index.ts';
import { createRelease, seedActiveVersions, startShadow } from '../releases/index.ts';
import { openPglite, withFaults, type FaultSwitch } from '../store/index.ts';
import { compile, taper, testService, ucBundle, type TestService } from '../testing/index.ts';

// Debian's Chromium, driven by playwright-core: no browser is ever downloaded.
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const WIDE = { width: 1280, height: 900 };
const NARROW = { width: 320, height: 640 };

if (!existsSync(CHROMIUM) && process.env.CI)
  throw new Error(`${CHROMIUM} is missing: .ci/run installs chromium (apt-get install -y chromium) before the tests`);

interface Violation {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/** Runs axe-core in the page (evaluated through the DevTools protocol, so the page's CSP allows it). */
async function axeViolations(page: Page): Promise<Violation[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) await page.evaluate(axe.source);
  return page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(AXE_TAGS)} } }).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ') + ' -> ' + n.failureSummary.replace(/\\s+/g, ' ')),
  })))`);
}

function readable(violations: Violation[]): string {
  return violations
    .map((v) => `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n}`).join('\n')}`)
    .join('\n');
}

/** What has focus: its tag, id, class and text. */
function focused(
  page: Page,
): Promise<{ tag: string; id: string; className: string; text: string; href: string | null }> {
  return page.evaluate(
    `(() => { const e = document.activeElement; return { tag: e.tagName.toLowerCase(), id: e.id, className: String(e.className), text: (e.textContent || '').trim(), href: e.getAttribute('href') }; })()`,
  );
}

/** Heading levels in document order. */
function headings(page: Page): Promise<number[]> {
  return page.evaluate(`[...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map((h) => Number(h.tagName[1]))`);
}

/** Each focusable control's look when focused (recorded while tabbing) against its look unfocused. */
const STYLE = `(e) => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.backgroundColor, s.color, s.textDecorationLine, s.borderColor].join('|'); }`;

/**
 * Tabs from the top of the page until focus comes back round, checking every visible link,
 * button and field is reached and looks different when focused.
 */
async function tabThrough(page: Page): Promise<string[]> {
  await page.evaluate(`document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)`);
  const controls = await page.evaluate<number>(`(() => {
    const all = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')].filter((e) => e.getClientRects().length > 0 && !e.closest('[hidden]'));
    all.forEach((e, i) => e.setAttribute('data-tab-index', String(i)));
    return all.length;
  })()`);
  const seen = new Map<string, string>();
  const order: string[] = [];
  for (let i = 0; i < controls + 5; i++) {
    await page.keyboard.press('Tab');
    const state = await page.evaluate<{ index: string | null; style: string; label: string } | null>(`(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return null;
      return { index: e.getAttribute('data-tab-index'), style: (${STYLE})(e), label: e.tagName.toLowerCase() + ' ' + (e.textContent || e.getAttribute('name') || '').trim().replace(/\\s+/g, ' ') };
    })()`);
    if (!state || state.index === null) continue;
    if (seen.has(state.index)) break;
    seen.set(state.index, state.style);
    order.push(state.label);
  }
  assert.equal(seen.size, controls, `Tab reached ${seen.size} of ${controls} controls: ${order.join(', ')}`);
  await page.evaluate(`document.activeElement && document.activeElement.blur()`);
  for (const [index, focusedStyle] of seen) {
    const unfocused = await page.evaluate<string>(`(${STYLE})(document.querySelector('[data-tab-index="${index}"]'))`);
    assert.notEqual(focusedStyle, unfocused, `control ${order[[...seen.keys()].indexOf(index)]} shows no focus style`);
  }
  return order;
}

describe(
  'pages in a browser',
  { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install -y chromium)` },
  () => {
    let service: TestService;
    let browser: Browser;
    let base: string;
    let shots: string;
    let incidentId: string;
    let faults: FaultSwitch;
    const cspErrors: string[] = [];

    before(async () => {
      faults = withFaults(await openPglite(undefined));
      service = await testService({ faults }, faults.db);
      const { db } = service;
      const p1 = await declareIncident(db, {
        title: 'Assessments failing after failover',
        priority: 'P1',
        actor: 'alertmanager',
        lead: 'Alice Lead',
        communicationsLead: 'Carol Comms',
        journeys: ['assessment_availability'],
        citizenMessage: 'You may not be able to get a decision about your benefit. We are working to fix this.',
        runbook: 'docs/runbooks/assessment-availability.md',
      });
      incidentId = p1.incident.id;
      await updateIncident(db, incidentId, {
        actor: 'Alice Lead',
        status: 'identified',
        text: 'The database failed over; connections are being re-established.',
      });
      await declareIncident(db, {
        title: 'Slow assessments',
        priority: 'P2',
        actor: 'bob',
        journeys: ['assessment_latency'],
        citizenMessage: 'Some people may wait longer than usual for a decision.',
      });
      await declareIncident(db, { title: 'Nightly backup late', priority: 'P3', actor: 'bob' });
      const fixed = await declareIncident(db, {
        title: 'Decisions not recorded',
        priority: 'P1',
        actor: 'bob',
        citizenMessage: 'Between 9am and 9:40am some people could not get a decision. This is now fixed.',
      });
      await updateIncident(db, fixed.incident.id, {
        actor: 'bob',
        status: 'resolved',
        text: 'fixed and verified by the probe',
      });
      await seedActiveVersions(db, [service.context.ruleSets.get('universal-credit')!.program]);
      const release = await createRelease(db, {
        program: compile(taper(await ucBundle(), '57%')).program,
        author: 'Priya Author',
        summary: 'Taper rate to 57%',
        effectiveAt: '2026-04-06T00:00:00.000Z',
        expectations: NO_CHANGES,
        golden: { total: 1, failed: [] },
      });
      await startShadow(
        db,
        release.id,
        { sharePercent: 10, preview: false },
        'Priya Author',
        'compare with live traffic',
      );

      await service.app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      shots = await mkdtemp(join(tmpdir(), 'entitle-web-screenshots-'));
      console.log(`screenshots in ${shots}`);
    });

    after(async () => {
      await browser?.close();
      await service?.close();
    });

    async function newPage(viewport = WIDE): Promise<Page> {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      page.on('console', (message) => {
        if (/Content Security Policy|Refused to/i.test(message.text()))
          cspErrors.push(`${page.url()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => cspErrors.push(`${page.url()}: ${error.message}`));
      return page;
    }

    async function signIn(page: Page): Promise<void> {
      await page.goto(`${base}/ops/sign-in`);
      await page.fill('#api-key', service.keys.operator);
      await Promise.all([page.waitForURL(`${base}/ops`), page.click('button:has-text("Sign in")')]);
    }

    /** Checks a page at both widths: axe, one h1 and no skipped heading level, reflow, screenshots. */
    async function check(page: Page, name: string): Promise<void> {
      for (const viewport of [WIDE, NARROW]) {
        await page.setViewportSize(viewport);
        const violations = await axeViolations(page);
        assert.equal(violations.length, 0, `axe found on ${name} at ${viewport.width}px:\n${readable(violations)}`);
        const levels = await headings(page);
        assert.equal(levels.filter((l) => l === 1).length, 1, `${name} has one h1`);
        levels.forEach((level, i) =>
          assert.ok(i === 0 || level <= levels[i - 1]! + 1, `${name}: h${level} follows h${levels[i - 1]}`),
        );
        if (viewport === NARROW) {
          const overflow = await page.evaluate<number>('document.documentElement.scrollWidth');
          assert.ok(overflow <= NARROW.width, `${name} scrolls sideways at 320px (${overflow}px wide)`);
        }
        const path = join(shots, `${name}-${viewport.width}.png`);
        await page.screenshot({ path, fullPage: true });
        console.log(`  screenshot ${path}`);
      }
      await page.setViewportSize(WIDE);
    }

    it('renders the status page with GOV.UK Frontend, accessible at 1280 and 320 pixels', async () => {
      const page = await newPage();
      const response = await page.goto(`${base}/status`);
      assert.equal(response?.status(), 200);
      assert.equal(await page.title(), 'Service status – Entitle');
      assert.match(
        await page.evaluate<string>(`getComputedStyle(document.querySelector('h1')).fontFamily`),
        /GDS Transport/,
        'the GOV.UK stylesheet loads',
      );
      assert.ok(
        await page.evaluate<boolean>(
          `document.fonts.ready.then(() => document.fonts.check('700 19px "GDS Transport"'))`,
        ),
        'the GOV.UK font loads',
      );
      assert.equal(await page.evaluate<string>('document.documentElement.lang'), 'en-GB');
      const text = await page.evaluate<string>('document.body.innerText');
      assert.match(text, /Getting a decision about your benefit\s+Not working/);
      assert.match(text, /Getting your decision without a long wait\s+Some people may have problems/);
      assert.match(text, /Keeping a record of your decision\s+Working normally/);
      assert.ok(!/P1|Alice|failover/.test(text), 'no internal detail');
      await check(page, 'status');
      await page.context().close();
    });

    it('moves focus with the skip link, and reaches every control by Tab with a visible focus style', async () => {
      const page = await newPage();
      await page.goto(`${base}/status`);
      await page.keyboard.press('Tab');
      const skip = await focused(page);
      assert.equal(skip.className, 'govuk-skip-link');
      assert.ok(
        await page.evaluate<boolean>(
          `(() => { const r = document.activeElement.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.top >= 0; })()`,
        ),
        'the skip link is visible when focused',
      );
      await page.keyboard.press('Enter');
      assert.equal((await focused(page)).id, 'main-content', 'focus moves to main');
      assert.ok((await tabThrough(page)).some((control) => /Skip to main content/.test(control)));

      await signIn(page);
      for (const path of ['/ops', `/ops/incidents/${incidentId}`]) {
        await page.goto(`${base}${path}`);
        await tabThrough(page);
      }
      await page.context().close();
    });

    it('signs in and out with the keyboard alone, and explains a wrong key', async () => {
      const page = await newPage();
      await page.goto(`${base}/ops`);
      assert.equal(new URL(page.url()).pathname, '/ops/sign-in');
      await check(page, 'sign-in');

      // A wrong key: the error summary takes focus (autofocus, no JavaScript needed), links to the field.
      for (let i = 0; i < 30 && (await focused(page)).id !== 'api-key'; i++) await page.keyboard.press('Tab');
      assert.equal((await focused(page)).id, 'api-key');
      await page.keyboard.type('ent_wrong');
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      assert.equal(await page.title(), 'Error: Sign in – Entitle');
      assert.match((await focused(page)).className, /govuk-error-summary/);
      await check(page, 'sign-in-error');
      await page.focus('.govuk-error-summary');
      await page.keyboard.press('Tab');
      assert.equal((await focused(page)).href, '#api-key');
      await page.keyboard.press('Enter');
      assert.equal((await focused(page)).id, 'api-key', 'the summary link moves focus to the field');

      await page.keyboard.type(service.keys.operator);
      await Promise.all([page.waitForURL(`${base}/ops`), page.keyboard.press('Enter')]);
      assert.equal(await page.title(), 'Overview – Entitle');

      await page.evaluate('window.scrollTo(0, 0); document.activeElement && document.activeElement.blur()');
      for (let i = 0; i < 30 && (await focused(page)).text !== 'Sign out'; i++) await page.keyboard.press('Tab');
      assert.equal((await focused(page)).text, 'Sign out');
      await Promise.all([page.waitForURL(/\/ops\/sign-in\?signedOut=yes$/), page.keyboard.press('Enter')]);
      assert.match(await page.evaluate<string>('document.body.innerText'), /You have signed out\./);
      await page.goto(`${base}/ops/releases`);
      assert.equal(new URL(page.url()).pathname, '/ops/sign-in', 'signed out for real');
      await page.context().close();
    });

    it('warns before an idle timeout, stays signed in by the keyboard, and signs out when ignored', async () => {
      // Its own service with a 12-second timeout and a 6-second warning, so the test waits seconds, not minutes.
      const short = await testService({ web: { idleSeconds: 12, warningSeconds: 6 } });
      await short.app.listen({ host: '127.0.0.1', port: 0 });
      const origin = `http://127.0.0.1:${(short.app.server.address() as AddressInfo).port}`;
      const page = await newPage();
      try {
        await page.goto(`${origin}/ops/sign-in`);
        await page.fill('#api-key', short.keys.operator);
        await Promise.all([page.waitForURL(`${origin}/ops`), page.click('button:has-text("Sign in")')]);
        assert.equal(await page.isVisible('#entitle-timeout'), false, 'no warning at first');

        await page.waitForSelector('#entitle-timeout[open]', { timeout: 15_000 });
        assert.equal((await focused(page)).id, 'entitle-timeout-stay', 'the dialog takes focus on its button');
        assert.match(
          await page.innerText('#entitle-timeout'),
          /You’re about to be signed out\s+For your security, we will sign you out in \d seconds?\./,
        );
        assert.match(await page.innerText('#entitle-timeout-live'), /sign you out in \d seconds?/);
        const violations = await axeViolations(page);
        assert.equal(violations.length, 0, `axe found on the timeout warning:\n${readable(violations)}`);
        await page.screenshot({ path: join(shots, 'timeout-warning-1280.png') });

        // Enter on "Stay signed in": the dialog closes and the session lasts another 12 seconds.
        await page.keyboard.press('Enter');
        await page.waitForSelector('#entitle-timeout', { state: 'hidden' });
        const left = await page.evaluate<{ secondsLeft: number }>(`fetch('/ops/session').then((r) => r.json())`);
        assert.ok(left.secondsLeft >= 10, `extended: ${left.secondsLeft} seconds left`);

        // Ignored this time: the page goes to sign in, saying why, and the session is over.
        await page.waitForURL(/\/ops\/sign-in\?timedOut=yes$/, { timeout: 20_000 });
        assert.match(
          await page.evaluate<string>('document.body.innerText'),
          /For your security, we signed you out because you did not use the console for/,
        );
        await page.goto(`${origin}/ops/releases`);
        assert.equal(new URL(page.url()).pathname, '/ops/sign-in', 'signed out on the server');
      } finally {
        await page.context().close();
        await short.close();
      }
    });

    it('renders the console pages, accessible at 1280 and 320 pixels', async () => {
      const page = await newPage();
      await signIn(page);
      const pages: [string, string, RegExp][] = [
        [
          'overview',
          '/ops',
          /Open incidents[\s\S]*Assessments failing after failover[\s\S]*Releases under test[\s\S]*Taper rate to 57%[\s\S]*Prometheus is not configured/,
        ],
        ['incidents', '/ops/incidents', /Decisions not recorded[\s\S]*Nightly backup late/],
        ['incident', `/ops/incidents/${incidentId}`, /Incident lead\s+Alice Lead[\s\S]*Timeline/],
        ['releases', '/ops/releases', /universal-credit[\s\S]*Taper rate to 57%/],
        [
          'flags',
          '/ops/flags',
          /Protecting citizen assessments[\s\S]*Shadow evaluation of releases under test\s+Running[\s\S]*All flags[\s\S]*explanation-traces/,
        ],
        ['not-found', '/ops/incidents/INC-999', /Page not found/],
        ['unknown-page', '/ops/nowhere', /Page not found/],
      ];
      for (const [name, path, expected] of pages) {
        await page.goto(`${base}${path}`);
        assert.match(await page.evaluate<string>('document.body.innerText'), expected, name);
        await check(page, name);
      }
      await page.context().close();
    });

    it('shows the last known status with a notice while the database does not answer', async () => {
      const page = await newPage();
      await page.goto(`${base}/status`);
      faults.setDatabaseDown(true);
      try {
        await new Promise((resolve) => setTimeout(resolve, 5_100)); // past the status cache
        const response = await page.goto(`${base}/status`);
        assert.equal(response?.status(), 200);
        const text = await page.evaluate<string>('document.body.innerText');
        assert.match(text, /We could not check the status of the service just now/);
        assert.match(text, /Getting a decision about your benefit\s+Not working/);
        await check(page, 'status-stale');
      } finally {
        faults.setDatabaseDown(false);
      }
      await page.context().close();
    });

    it('breaks no Content Security Policy rule and throws no script error', () => {
      assert.deepEqual(cspErrors, []);
    });
  },
);
