import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createKey } from '../keys/index.ts';
import { freePort, runEntitle, spawnServer, testDatabases } from '../testing/index.ts';

describe('the command line as a client of the service', { timeout: 120_000 }, () => {
  it('logs in once and acts as the person holding the key: flags under the two-person rule, an incident from declaration to review', async () => {
    const t = await testDatabases.postgres();
    const home = await mkdtemp(join(tmpdir(), 'entitle-home-'));
    const server = await spawnServer({ DATABASE_URL: t.url!, ENTITLE_ENVIRONMENT: 'production' });
    try {
      const alice = (await createKey(t.db, 'alice-laptop', ['operator'], 'operator', 'Alice Smith')).key;
      const aliceAgain = (
        await createKey(t.db, 'alice-phone', ['approver'], 'operator', 'ALICE  smith', { existingPerson: true })
      ).key;
      const bob = (await createKey(t.db, 'bob-laptop', ['approver'], 'operator', 'Bob Jones')).key;
      // Each person's own configuration, as on their own machine.
      const as = (who: string) => ({ XDG_CONFIG_HOME: join(home, who), ENTITLE_API_KEY: '', ENTITLE_URL: '' });
      const entitle = (who: string, ...args: string[]) => runEntitle(args, as(who));

      const unconfigured = await entitle('alice', 'flags', 'list');
      assert.equal(unconfigured.code, 2, unconfigured.stderr);
      assert.match(
        unconfigured.stderr,
        /ENTITLE_UNAUTHENTICATED: no API key to send to the service at http:\/\/127\.0\.0\.1:3000/,
      );
      assert.match(unconfigured.stderr, /entitle login --url/);

      const wrongKey = await runEntitle(['login', '--url', server.url], as('alice'), 'ent_not-a-key\n');
      assert.equal(wrongKey.code, 2, wrongKey.stderr);
      assert.match(wrongKey.stderr, /ENTITLE_UNAUTHENTICATED/);

      const login = await runEntitle(['login', '--url', server.url], as('alice'), `${alice}\n`);
      assert.equal(login.code, 0, login.stderr);
      assert.match(login.stdout, /signed in as Alice Smith \(key alice-laptop; roles operator\)/);
      assert.doesNotMatch(login.stdout + login.stderr, new RegExp(alice), 'the key is never printed');
      const config = join(home, 'alice', 'entitle', 'config.json');
      assert.equal((await stat(config)).mode & 0o777, 0o600, 'only its owner can read the saved key');
      for (const [who, key] of [
        ['alice-phone', aliceAgain],
        ['bob', bob],
      ] as const)
        assert.equal((await runEntitle(['login', '--url', server.url], as(who), `${key}\n`)).code, 0);
      assert.match((await entitle('alice-phone', 'whoami')).stdout, /^Alice Smith \(key alice-phone; roles approver\)/);

      const noReason = await entitle('alice', 'flags', 'set', 'shadow-evaluation', '--off');
      assert.equal(noReason.code, 2);
      assert.match(noReason.stderr, /--reason/);
      const asked = await entitle('alice', 'flags', 'set', 'shadow-evaluation', '--off', '--reason', 'surge', '--json');
      assert.equal(asked.code, 0, asked.stderr);
      const change = JSON.parse(asked.stdout) as { applied: boolean; change: { id: string; requestedBy: string } };
      assert.equal(change.applied, false, 'production waits for a second person');
      assert.equal(change.change.requestedBy, 'Alice Smith');

      const own = await entitle('alice-phone', 'flags', 'approve', change.change.id, '--reason', 'fine by me');
      assert.equal(own.code, 6, own.stderr);
      assert.match(own.stderr, /ENTITLE_FLAG_APPROVAL_REQUIRED: Alice Smith asked for FC-\d+, so cannot approve it/);

      const approved = await entitle('bob', 'flags', 'approve', change.change.id.toLowerCase(), '--reason', 'agreed');
      assert.equal(approved.code, 0, approved.stderr);
      assert.match(approved.stdout, /applied: shadow-evaluation is off/);
      const history = await entitle('bob', 'flags', 'history', 'shadow-evaluation', '--json');
      const actors = (JSON.parse(history.stdout) as { action: string; actor: string }[]).map(
        (e) => `${e.action} by ${e.actor}`,
      );
      assert.deepEqual(actors.slice(-2), ['flag.change_requested by Alice Smith', 'flag.changed by Bob Jones']);

      const envOverrides = await runEntitle(['whoami'], {
        ...as('nobody'),
        ENTITLE_URL: server.url,
        ENTITLE_API_KEY: bob,
      });
      assert.match(envOverrides.stdout, /^Bob Jones/, 'ENTITLE_URL and ENTITLE_API_KEY need no saved login');

      const elsewhere = await runEntitle(['whoami'], { ...as('alice'), ENTITLE_URL: 'https://elsewhere.example' });
      assert.equal(elsewhere.code, 2, 'a saved key goes only to the address it was saved for');
      assert.match(elsewhere.stderr, /no API key to send to the service at https:\/\/elsewhere\.example/);
      const plain = await runEntitle(['login', '--url', 'http://entitle.example'], as('carol'), `${bob}\n`);
      assert.equal(plain.code, 2, 'a key never crosses a network in the clear');
      assert.match(plain.stderr, /https address, or http to this machine only/);

      const port = await freePort();
      const away = await runEntitle(['flags', 'list'], {
        ...as('alice'),
        ENTITLE_URL: `http://127.0.0.1:${port}`,
        ENTITLE_API_KEY: alice,
      });
      assert.equal(away.code, 5);
      assert.match(
        away.stderr,
        new RegExp(`the service at http://127\\.0\\.0\\.1:${port}/?\\S* could not be reached \\(ECONNREFUSED\\)`),
      );

      // Incidents, run by Alice as herself: every step names her, and the review goes under the data directory.
      const dataDir = join(home, 'data');
      const run = (...args: string[]) => runEntitle(args, { ...as('alice'), ENTITLE_DATA_DIR: dataDir });
      const declared = await run('incident', 'declare', '--title', 'Assessments failing', '--priority', 'P2', '--json');
      assert.equal(declared.code, 0, declared.stderr);
      const incident = (JSON.parse(declared.stdout) as { id: string }).id;
      assert.equal((await run('incident', 'ack', incident)).stdout, `${incident} acknowledged by Alice Smith\n`);
      assert.equal(
        (await run('incident', 'assign', incident, '--role', 'incident-lead', '--person', 'Alice Smith')).code,
        0,
      );
      assert.equal((await run('incident', 'update', incident, '--status', 'identified', '--text', 'database')).code, 0);
      const comms = await run('incident', 'comms', incident, '--audience', 'citizens', '--publish');
      assert.equal(comms.code, 0, comms.stderr);
      assert.match(comms.stderr, /published on the status page/);
      const resolved = await run('incident', 'resolve', incident, '--text', 'restarted; checked with entitle status');
      assert.equal(resolved.code, 0, resolved.stderr);
      const review = await run('incident', 'review', incident);
      assert.equal(review.code, 0, review.stderr);
      assert.equal(review.stdout, `wrote ${join(dataDir, 'post-incident-reviews', `${incident}.md`)}\n`);
      const shown = JSON.parse((await run('incident', 'show', incident, '--json')).stdout) as {
        entries: { kind: string; actor: string }[];
      };
      assert.ok(shown.entries.length >= 5);
      // The service's own entries (notifications sent) are by entitle; every person's is Alice's.
      assert.deepEqual([...new Set(shown.entries.map((e) => e.actor).filter((a) => a !== 'entitle'))], ['Alice Smith']);
      const listed = JSON.parse((await run('incident', 'list', '--all', '--json')).stdout) as { id: string }[];
      assert.ok(listed.some((i) => i.id === incident));
      assert.match((await run('incident', 'timeline', incident)).stdout, new RegExp(`^# Timeline: ${incident}`));
      const notMine = await runEntitle(['incident', 'ack', incident], as('bob'));
      assert.equal(notMine.code, 6, 'an approver key is not an operator key');
      assert.match(notMine.stderr, /ENTITLE_FORBIDDEN/);

      const status = await runEntitle(['status'], {
        ...as('alice'),
        DATABASE_URL: t.url!,
        ENTITLE_URL: `http://127.0.0.1:${port}`,
      });
      assert.equal(status.code, 5);
      assert.match(
        status.stderr,
        new RegExp(`the Entitle service at http://127\\.0\\.0\\.1:${port} could not be reached \\(ECONNREFUSED\\)`),
      );

      assert.equal((await entitle('alice', 'logout')).code, 0);
      assert.equal((await entitle('alice', 'flags', 'list')).code, 2, 'logged out: no key');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await rm(home, { recursive: true, force: true });
      await t.drop();
    }
  });
});
