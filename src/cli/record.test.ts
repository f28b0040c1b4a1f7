import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DecisionWriter } from '../decisions/index.ts';
import { generateSignerKey, integrate, KEY_FILE, logSettingsFrom, writeCheckpointFile } from '../log/index.ts';
import { loadRuleSet } from '../rules/index.ts';
import { migrate, openDatabase, type Database } from '../store/index.ts';
import { canaryInput, decisionDraft, projectRoot, runEntitle } from '../testing/index.ts';

/** Decisions written and placed as a running service would: each round signs a checkpoint and writes it out. */
async function decide(
  dir: string,
  count: number,
  work?: (db: Database) => Promise<void>,
  env: Record<string, string> = {},
): Promise<void> {
  const db = await openDatabase({ dataDir: dir });
  try {
    await migrate(db);
    const settings = await logSettingsFrom({ dataDir: dir }, env);
    const ruleSet = await loadRuleSet(join(projectRoot, 'rulesets/uk-universal-credit'));
    const writer = new DecisionWriter(db);
    for (let i = 0; i < count; i++) {
      await writer.write(decisionDraft(ruleSet, canaryInput), ruleSet.program.bundle);
    }
    const placed = await integrate(db, 'decisions', settings, settings.origin);
    if (placed) await writeCheckpointFile(settings.checkpointDir!, placed.checkpoint);
    await work?.(db);
  } finally {
    await db.close();
  }
}

describe('the verifiable record on the embedded database', { timeout: 120_000 }, () => {
  it('keeps its signing key in the data directory, and audit verify catches the newest decisions removed and the heads rewound', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-record-'));
    const env = { ENTITLE_DATA_DIR: dir, DATABASE_URL: '', ENTITLE_LOG_SIGNING_KEY: '' };
    try {
      await decide(dir, 3);
      await decide(dir, 2);
      assert.equal((await stat(join(dir, KEY_FILE))).mode & 0o777, 0o600);
      const key = await runEntitle(['log', 'public-key'], env);
      assert.match(key.stdout, /^entitle\.localhost\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}\n$/);
      const files = (await readdir(join(dir, 'checkpoints', 'decisions'))).sort();
      assert.deepEqual(files, ['000000000000003.checkpoint', '000000000000005.checkpoint', 'latest']);
      const kept = join(dir, 'kept.checkpoint');
      await copyFile(join(dir, 'checkpoints', 'decisions', 'latest'), kept);

      const intact = await runEntitle(['audit', 'verify'], env);
      assert.equal(intact.code, 0, intact.stderr);
      assert.match(intact.stdout, /verified 5 decisions against 4 signed checkpoints: the decision log is intact/);

      // Someone with write access to the database removes the two newest decisions and rewinds
      // everything in the database that counts them. Only the checkpoints outside it remember.
      await decide(dir, 0, (db) =>
        db.exec(`
          DELETE FROM decisions WHERE id IN (SELECT ref FROM log_entries WHERE log = 'decisions' AND leaf_index >= 3);
          DELETE FROM log_entries WHERE log = 'decisions' AND leaf_index >= 3;
          DELETE FROM log_nodes WHERE log = 'decisions' AND (idx + 1) * power(2, level) > 3;
          DELETE FROM log_checkpoints WHERE log = 'decisions' AND size > 3;`),
      );
      const given = await runEntitle(['audit', 'verify', '--checkpoint', kept], env);
      assert.equal(given.code, 1, given.stdout);
      assert.match(
        given.stderr,
        new RegExp(`checkpoint ${kept} \\(5 leaves\\) names 5 leaves but the decisions log holds 3`),
      );
      assert.match(given.stderr, /missing leaves: 3 to 4/);
      const fromDir = await runEntitle(['audit', 'verify'], env);
      assert.equal(fromDir.code, 1);
      assert.match(fromDir.stderr, /000000000000005\.checkpoint \(5 leaves\) names 5 leaves/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rotates the log signing key without a stop: both sign, then the new one, and the old checkpoints still verify', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-log-rotation-'));
    const old = generateSignerKey('entitle.test');
    const fresh = generateSignerKey('entitle.test');
    const base = { ENTITLE_DATA_DIR: dir, DATABASE_URL: '' };
    const verify = (env: Record<string, string>) => runEntitle(['audit', 'verify'], { ...base, ...env });
    try {
      await decide(dir, 2, undefined, { ENTITLE_LOG_SIGNING_KEY: old.text });
      // 1. Both keys sign (instances not yet updated still sign with the old one alone, and accept these).
      const both = { ENTITLE_LOG_SIGNING_KEY: `${old.text}\n${fresh.text}` };
      await decide(dir, 2, undefined, both);
      await decide(dir, 1, undefined, { ENTITLE_LOG_SIGNING_KEY: old.text });
      const latest = await readFile(join(dir, 'checkpoints', 'decisions', 'latest'), 'utf8');
      assert.match(latest, /\n\n(— entitle\.test \S+\n){1}$/, 'the old-key instance signed the newest alone');
      const ring = await readFile(join(dir, 'checkpoints', 'decisions', '000000000000004.checkpoint'), 'utf8');
      assert.equal(ring.match(/^— entitle\.test /gm)?.length, 2, 'the ring signed with both keys');
      assert.equal((await verify(both)).code, 0);
      // A ring instance signs the newest checkpoint again with both keys, with nothing new to place.
      await decide(dir, 0, undefined, both);
      const cosigned = await readFile(join(dir, 'checkpoints', 'decisions', 'latest'), 'utf8');
      assert.equal(cosigned.match(/^— entitle\.test /gm)?.length, 2, 'the newest checkpoint now carries both');
      // 2. The new key alone signs, the old one retired: its checkpoints still verify.
      const rotated = { ENTITLE_LOG_SIGNING_KEY: fresh.text, ENTITLE_LOG_RETIRED_KEYS: old.verifier.text };
      await decide(dir, 2, undefined, rotated);
      const done = await verify(rotated);
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, /verified 7 decisions/);
      // Without the retired key, the checkpoints only the old key signed are refused, naming why.
      const forgotten = await verify({ ENTITLE_LOG_SIGNING_KEY: fresh.text });
      assert.equal(forgotten.code, 1);
      assert.match(forgotten.stderr, /fails its signature: the note is not signed by the key entitle\.test\+/);
      // A key of another name would change the checkpoints' origin: refused before anything is signed.
      const other = await verify({ ENTITLE_LOG_SIGNING_KEY: `${fresh.text},${generateSignerKey('elsewhere').text}` });
      assert.equal(other.code, 2, other.stderr);
      assert.match(other.stderr, /every log key must be named entitle\.test, the log's origin: a key named elsewhere/);
      // The sequencer never builds on what only a retired key signed: that key may have leaked.
      const stranger = generateSignerKey('entitle.test');
      await assert.rejects(
        decide(dir, 1, undefined, {
          ENTITLE_LOG_SIGNING_KEY: stranger.text,
          ENTITLE_LOG_RETIRED_KEYS: fresh.verifier.text,
        }),
        /the newest stored checkpoint of the decisions log does not carry this key's signature/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('replays recorded decisions with this build on the database itself, as the pipeline checks a new image', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-replay-local-'));
    const env = { ENTITLE_DATA_DIR: dir, DATABASE_URL: '', ENTITLE_LOG_SIGNING_KEY: '' };
    try {
      await decide(dir, 3);
      const check = await runEntitle(['replay', '--local', '--since', '2020-01-01', '--sample', '5'], env);
      assert.equal(check.code, 0, check.stderr);
      assert.match(
        check.stdout,
        /^replayed 3 recorded decisions since 2020-01-01 with entitle [\d.]+, from 1 strata .*: 3 the same, 0 different\n$/,
      );
      const json = await runEntitle(['replay', '--local', '--since', '2020-01-01', '--json'], env);
      assert.equal((JSON.parse(json.stdout) as { sampled: number }).sampled, 3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
