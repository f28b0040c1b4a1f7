import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { v7 as uuidv7 } from 'uuid';
import { loadRuleSet, ruleSetFromBundle, type RuleSet } from '../rules/index.ts';
import { migrate, shippedMigrations } from '../store/index.ts';
import { testDatabases, type TestDatabase } from '../testing/index.ts';
import {
  DecisionWriter,
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
  const raw = input(n);
  const assessment = ruleSet.assess(raw);
  return {
    id: uuidv7(),
    benefit: assessment.benefit,
    applicationId: assessment.applicationId,
    assessmentDate: assessment.assessmentDate,
    ruleset: assessment.ruleset,
    engineVersion: assessment.engine.version,
    inputs: raw,
    outcome: assessment.outcome,
    explanation: assessment.explanation,
  };
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

    it('chains concurrent decisions in one order, in batches, and verifies', async () => {
      await withDatabase(kind, async ({ db }, ruleSet) => {
        const sizes: number[] = [];
        const writer = new DecisionWriter(db, { batch: (size) => sizes.push(size) });
        const records = await Promise.all(
          Array.from({ length: 300 }, (_, n) => writer.write(draft(ruleSet, n), ruleSet.program.bundle)),
        );
        assert.deepEqual(
          records.map((r) => r.seq).sort((a, b) => a - b),
          Array.from({ length: 300 }, (_, i) => i + 1),
        );
        assert.ok(
          sizes.some((s) => s > 1),
          `expected group commits, got batch sizes ${sizes.join(',')}`,
        );
        const report = await verifyChain(db);
        assert.equal(report.ok && report.verified, 300);
        assert.equal(report.ok && report.head, records.find((r) => r.seq === 300)!.recordHash);
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
        "UPDATE decisions SET outcome = jsonb_set(outcome, '{amount}', '999.99') WHERE seq = 3",
        /record 3 was altered/,
      ],
      [
        'altered inputs',
        "UPDATE decisions SET inputs = jsonb_set(inputs, '{applicationId}', '\"APP-X\"') WHERE seq = 2",
        /inputs of record 2 were altered/,
      ],
      ['a removed record', 'DELETE FROM decisions WHERE seq = 4', /record 4 is missing/],
      ['records removed from the end', 'DELETE FROM decisions WHERE seq = 5', /chain ends at record 4/],
      [
        'a replaced record',
        "UPDATE decisions SET prev_hash = 'sha256:' || repeat('1', 64) WHERE seq = 2",
        /record 2 does not follow record 1/,
      ],
      [
        'a forged row outside the chain',
        "ALTER TABLE decisions DROP CONSTRAINT decisions_seq_positive; INSERT INTO decisions SELECT -1, gen_random_uuid(), benefit, application_id, assessment_date, ruleset_id, ruleset_hash, engine_version, inputs, inputs_digest, outcome, explanation, created_at, purged_at, prev_hash, 'sha256:forged' FROM decisions WHERE seq = 1",
        /1 decision row is outside the chain/,
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
          await db.exec(tamper);
          const report = await verifyChain(db);
          assert.equal(report.ok, false);
          if (!report.ok) assert.match(report.problem.message, expected);
        });
      });
    }

    it('purges old inputs under retention and the chain still verifies', async () => {
      await withDatabase(kind, async ({ db }, ruleSet, writer) => {
        for (let n = 0; n < 3; n++) await writer.write(draft(ruleSet, n), ruleSet.program.bundle);
        assert.equal(await purgeInputs(db, '2000-01-01T00:00:00.000Z'), 0);
        assert.equal(await purgeInputs(db, new Date(Date.now() + 60_000).toISOString()), 3);
        const { rows } = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM decisions WHERE inputs IS NULL AND purged_at IS NOT NULL',
        );
        assert.equal(rows[0]!.n, 3);
        assert.equal((await verifyChain(db)).ok, true);
      });
    });
  });
}
