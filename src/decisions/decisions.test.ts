import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { v7 as uuidv7 } from 'uuid';
import { loadRuleSet, ruleSetFromBundle, type RuleSet } from '../rules/index.ts';
import { latestCheckpoint } from '../log/index.ts';
import { migrate, openPglite, shippedMigrations } from '../store/index.ts';
import {
  decisionDraft,
  placeQueued,
  TEST_VERIFIER,
  testDatabases,
  verifyRecord,
  type TestDatabase,
} from '../testing/index.ts';
import {
  DecisionWriter,
  digestInputs,
  GENESIS_HASH,
  recordHash,
  storeBundle,
  purgeInputs,
  readDecision,
  readsOf,
  storedBundle,
  verifyChain,
  type DecisionDraft,
} from './index.ts';

const ucDir = fileURLToPath(new URL('../../rulesets/uk-universal-credit', import.meta.url));
const adult = {
  dateOfBirth: '1995-03-01',
  monthlyNetEarnings: 1500,
  limitedCapabilityForWorkRelatedActivity: false,
  lcwraProtected: false,
  carer: false,
};
const input = (n: number) => ({
  benefit: 'universal-credit',
  applicationId: `APP-${n}`,
  assessmentDate: '2025-06-01',
  household: {
    adults: [{ ...adult, monthlyNetEarnings: n % 2000 }],
    children: [],
    monthlyEligibleHousingCosts: 0,
    nonDependants: 0,
    monthlyChildcareCosts: 0,
    capital: 0,
    monthlyUnearnedIncome: 0,
    livesInGreaterLondon: false,
  },
});

function draft(ruleSet: RuleSet, n: number): DecisionDraft {
  return decisionDraft(ruleSet, input(n));
}

async function withDatabase(
  kind: 'pglite' | 'postgres',
  work: (t: TestDatabase, ruleSet: RuleSet, writer: DecisionWriter) => Promise<void>,
): Promise<void> {
  const t = await testDatabases[kind]();
  try {
    const ruleSet = await loadRuleSet(ucDir);
    await work(t, ruleSet, new DecisionWriter(t.db));
  } finally {
    await t.drop();
  }
}

// One suite, run against every database Entitle supports.
for (const kind of ['pglite', 'postgres'] as const) {
  describe(`decision store on ${kind}`, () => {
    it('migrates once, and again without change', async () => {
      await withDatabase(kind, async ({ db }) => {
        assert.deepEqual((await migrate(db)).applied, []);
        await Promise.all([migrate(db), migrate(db)]);
        const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
        assert.equal(rows[0]!.n, (await shippedMigrations()).length);
      });
    });

    it('records concurrent decisions in batches, places each in the log once, and verifies', async () => {
      await withDatabase(kind, async ({ db }, ruleSet) => {
        const sizes: number[] = [];
        const writer = new DecisionWriter(db, { batch: (size) => sizes.push(size) });
        const records = await Promise.all(
          Array.from({ length: 300 }, (_, n) => writer.write(draft(ruleSet, n), ruleSet.program.bundle)),
        );
        assert.equal(new Set(records.map((r) => r.seq)).size, 300);
        assert.ok(
          sizes.some((s) => s > 1),
          `expected group commits, got batch sizes ${sizes.join(',')}`,
        );
        const report = await verifyRecord(db);
        assert.equal(report.ok && report.verified, 300, JSON.stringify(report));
        const { rows } = await db.query<{ n: number; distinct: number; top: number }>(
          "SELECT count(*)::int AS n, count(DISTINCT ref)::int AS distinct, max(leaf_index)::int AS top FROM log_entries WHERE log = 'decisions'",
        );
        assert.deepEqual(rows[0], { n: 300, distinct: 300, top: 299 });
      });
    });

    it('returns a stored decision exactly, and records who read it', async () => {
      await withDatabase(kind, async ({ db }, ruleSet, writer) => {
        const written = await writer.write(draft(ruleSet, 1500), ruleSet.program.bundle);
        const read = await readDecision(db, written.id, { keyId: uuidv7(), keyName: 'caseworker-1' }, 'read');
        assert.deepEqual(read, written);
        const reads = await readsOf(db, written.id);
        assert.deepEqual(
          reads.map((r) => [r.keyName, r.action]),
          [['caseworker-1', 'read']],
        );
        assert.equal(await readDecision(db, uuidv7(), { keyId: uuidv7(), keyName: 'x' }, 'read'), undefined);
      });
    });

    it('keeps every rule-set version used, so replay works after the files change', async () => {
      await withDatabase(kind, async ({ db }, ruleSet, writer) => {
        const written = await writer.write(draft(ruleSet, 1), ruleSet.program.bundle);
        const rebuilt = ruleSetFromBundle(await storedBundle(db, written.ruleset.hash));
        assert.equal(rebuilt.hash, written.ruleset.hash);
        assert.deepEqual(rebuilt.assess(written.inputs).outcome, written.outcome);
      });
    });

    for (const [name, tamper, expected] of [
      [
        'an altered outcome',
        "UPDATE decisions SET outcome = jsonb_set(outcome, '{amount}', '999.99') WHERE id = (SELECT ref FROM log_entries WHERE log = 'decisions' AND leaf_index = 2)",
        /decision .* was altered: its content no longer matches its hash \(leaf 2\)/,
      ],
      [
        'altered inputs',
        "UPDATE decisions SET inputs = jsonb_set(inputs, '{applicationId}', '\"APP-X\"') WHERE id = (SELECT ref FROM log_entries WHERE log = 'decisions' AND leaf_index = 1)",
        /the inputs of decision .* were altered/,
      ],
      [
        'a release column pointed at another release',
        "UPDATE decisions SET release_id = gen_random_uuid() WHERE id = (SELECT ref FROM log_entries WHERE leaf_index = 3 AND log = 'decisions')",
        /the release column of decision .* was altered/,
      ],
      [
        'a deleted decision',
        "DELETE FROM decisions WHERE id = (SELECT ref FROM log_entries WHERE log = 'decisions' AND leaf_index = 3)",
        /decision .* was deleted \(leaf 3\)/,
      ],
      [
        'a forged row outside the log',
        "ALTER TABLE decisions DISABLE TRIGGER decisions_into_log; INSERT INTO decisions SELECT nextval('decisions_seq'), gen_random_uuid(), benefit, application_id, assessment_date, ruleset_id, ruleset_hash, engine_version, inputs, inputs_digest, outcome, explanation, created_at, purged_at, prev_hash, 'sha256:forged' FROM decisions LIMIT 1",
        /1 decision row is outside the log/,
      ],
      [
        'a checkpoint rewritten in the database',
        "UPDATE log_checkpoints SET note = replace(note, E'\\n5\\n', E'\\n4\\n') WHERE log = 'decisions'",
        /stored checkpoint .* fails its signature/,
      ],
      [
        'an altered node of the tree',
        // Inside the tree, off its right edge: only proofs of leaves 2 and 3 read it.
        "UPDATE log_nodes SET hash = repeat('0', 64) WHERE log = 'decisions' AND level = 1 AND idx = 0",
        /the stored node 1\/0 of the decisions log was altered/,
      ],
      [
        'an altered stored rule set',
        "UPDATE ruleset_versions SET bundle = jsonb_set(bundle, '{ruleset,title}', '\"Altered\"')",
        /stored rule-set version .* was altered/,
      ],
    ] as const) {
      it(`audit verify finds ${name}`, async () => {
        await withDatabase(kind, async ({ db }, ruleSet, writer) => {
          for (let n = 0; n < 5; n++) await writer.write(draft(ruleSet, n), ruleSet.program.bundle);
          await placeQueued(db);
          await db.exec(tamper);
          const report = await verifyChain(db, { verifier: TEST_VERIFIER });
          assert.equal(report.ok, false);
          if (!report.ok) assert.match(report.problem.message, expected);
        });
      });
    }

    it('finds the newest decisions deleted and every head rewound, given a checkpoint kept from before', async () => {
      await withDatabase(kind, async ({ db }, ruleSet, writer) => {
        // Two rounds of the sequencer: checkpoints of 3 and of 5 decisions.
        for (let n = 0; n < 3; n++) await writer.write(draft(ruleSet, n), ruleSet.program.bundle);
        await placeQueued(db);
        for (let n = 3; n < 5; n++) await writer.write(draft(ruleSet, n), ruleSet.program.bundle);
        await placeQueued(db);
        const kept = (await latestCheckpoint(db, 'decisions'))!;
        assert.equal(kept.size, 5);
        // An adversary with write access removes the last two decisions and everything that counts them.
        await db.exec(`
          DELETE FROM decisions WHERE id IN (SELECT ref FROM log_entries WHERE log = 'decisions' AND leaf_index >= 3);
          DELETE FROM log_entries WHERE log = 'decisions' AND leaf_index >= 3;
          DELETE FROM log_nodes WHERE log = 'decisions' AND (idx + 1) * power(2, level) > 3;
          DELETE FROM log_checkpoints WHERE log = 'decisions' AND size > 3;
          SELECT setval('decisions_seq', (SELECT min(seq) FROM decisions));`);
        const blind = await verifyChain(db, { verifier: TEST_VERIFIER });
        assert.equal(blind.ok, true, 'without an outside checkpoint the rewound database looks whole');
        const report = await verifyChain(db, {
          verifier: TEST_VERIFIER,
          checkpoints: [{ source: 'kept.checkpoint', note: kept.note }],
        });
        assert.equal(report.ok, false);
        if (!report.ok) {
          assert.match(
            report.problem.message,
            /checkpoint kept.checkpoint \(5 leaves\) names 5 leaves but the decisions log holds 3/,
          );
          assert.deepEqual(report.missing, { from: 3, to: 4 });
        }
        // New decisions made to refill the log to its old size give another tree: still caught.
        for (let n = 10; n < 12; n++) await writer.write(draft(ruleSet, n), ruleSet.program.bundle);
        await placeQueued(db);
        const refilled = await verifyChain(db, {
          verifier: TEST_VERIFIER,
          checkpoints: [{ source: 'kept.checkpoint', note: kept.note }],
        });
        assert.equal(refilled.ok, false);
        if (!refilled.ok) assert.match(refilled.problem.message, /does not extend checkpoint kept.checkpoint/);
      });
    });

    it('makes the chain recorded before the log its first leaves, verifiably, and keeps both working', async () => {
      const db = kind === 'pglite' ? await openPglite(undefined) : undefined;
      const t = db ? undefined : await testDatabases.postgres({ migrate: false });
      const database = db ?? t!.db;
      try {
        const shipped = await shippedMigrations();
        await migrate(
          database,
          shipped.filter((m) => m.version < 7),
        );
        const ruleSet = await loadRuleSet(ucDir);
        await storeBundle(database, ruleSet.program.bundle, ruleSet.hash);
        // Three decisions written as the release before the log wrote them: a hash chain.
        let prevHash = GENESIS_HASH;
        const legacy: string[] = [];
        for (let seq = 1; seq <= 3; seq++) {
          const d = draft(ruleSet, seq);
          const createdAt = new Date().toISOString();
          const inputsDigest = digestInputs(d.inputs);
          const hash = recordHash({ ...d, seq, createdAt, inputsDigest, prevHash });
          await database.query(
            `INSERT INTO decisions (seq, id, benefit, application_id, assessment_date, ruleset_id, ruleset_hash, engine_version,
               inputs, inputs_digest, outcome, explanation, created_at, prev_hash, record_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
            [
              seq,
              d.id,
              d.benefit,
              d.applicationId,
              d.assessmentDate,
              d.ruleset.id,
              d.ruleset.hash,
              d.engineVersion,
              JSON.stringify(d.inputs),
              inputsDigest,
              JSON.stringify(d.outcome),
              JSON.stringify(d.explanation),
              createdAt,
              prevHash,
              hash,
            ],
          );
          await database.query('UPDATE chain_head SET seq = $1, hash = $2', [seq, hash]);
          legacy.push(hash);
          prevHash = hash;
        }
        await migrate(database);
        await new DecisionWriter(database).write(draft(ruleSet, 4), ruleSet.program.bundle);
        const report = await verifyRecord(database);
        assert.equal(report.ok && report.verified, 4, JSON.stringify(report));
        const { rows } = await database.query<{ leaf: string }>(
          "SELECT leaf FROM log_entries WHERE log = 'decisions' ORDER BY leaf_index LIMIT 3",
        );
        assert.deepEqual(
          rows.map((r) => r.leaf),
          legacy,
          'the old chain, in its order, is the first three leaves',
        );
        await database.exec(`UPDATE decisions SET prev_hash = '${GENESIS_HASH}' WHERE seq = 2`);
        const broken = await verifyChain(database, { verifier: TEST_VERIFIER });
        assert.equal(broken.ok, false);
      } finally {
        if (db) await db.close();
        else await t!.drop();
      }
    });

    it('purges old inputs under retention and the chain still verifies', async () => {
      await withDatabase(kind, async ({ db }, ruleSet, writer) => {
        for (let n = 0; n < 3; n++) await writer.write(draft(ruleSet, n), ruleSet.program.bundle);
        assert.equal(await purgeInputs(db, '2000-01-01T00:00:00.000Z'), 0);
        assert.equal(await purgeInputs(db, new Date(Date.now() + 60_000).toISOString()), 3);
        const { rows } = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM decisions WHERE inputs IS NULL AND purged_at IS NOT NULL',
        );
        assert.equal(rows[0]!.n, 3);
        assert.equal((await verifyRecord(db)).ok, true);
      });
    });
  });
}
