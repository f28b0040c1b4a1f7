/**
 * Which rule-set version decides each benefit (active_rulesets): the database says, not the files
 * or the process. A promotion or a rollback moves this pointer; every instance follows it.
 */
import { appendAuditEvent } from '../audit/index.ts';
import { storeBundle, storedBundle } from '../decisions/index.ts';
import { ruleSetFromBundle, type RuleProgram, type RuleSet } from '../rules/index.ts';
import type { Database, Queryable } from '../store/index.ts';

export interface ActiveVersion {
  readonly benefit: string;
  readonly hash: string;
  readonly releaseId: string | null;
  readonly changedAt: string;
}

/** The benefit's active version, locked until the transaction ends. */
export async function lockedPointer(tx: Queryable, benefit: string): Promise<ActiveVersion | undefined> {
  const { rows } = await tx.query<{
    benefit: string;
    ruleset_hash: string;
    release_id: string | null;
    changed_at: string;
  }>('SELECT * FROM active_rulesets WHERE benefit = $1 FOR UPDATE', [benefit]);
  const r = rows[0];
  return r ? { benefit: r.benefit, hash: r.ruleset_hash, releaseId: r.release_id, changedAt: r.changed_at } : undefined;
}

export async function activeVersions(db: Queryable): Promise<Map<string, ActiveVersion>> {
  const { rows } = await db.query<{
    benefit: string;
    ruleset_hash: string;
    release_id: string | null;
    changed_at: string;
  }>('SELECT * FROM active_rulesets');
  return new Map(
    rows.map((r) => [
      r.benefit,
      { benefit: r.benefit, hash: r.ruleset_hash, releaseId: r.release_id, changedAt: r.changed_at },
    ]),
  );
}

/**
 * The first time a benefit is served, the rule set the service starts with becomes its active
 * version. From then on the database says what is active, whatever is on disk: rule changes reach
 * citizens only through a release.
 */
export async function seedActiveVersions(db: Database, programs: readonly RuleProgram[]): Promise<void> {
  await db.transaction(async (tx) => {
    for (const program of programs) {
      await storeBundle(tx, program.bundle, program.hash);
      const { rows } = await tx.query(
        'INSERT INTO active_rulesets (benefit, ruleset_hash, changed_at) VALUES ($1, $2, $3) ON CONFLICT (benefit) DO NOTHING RETURNING benefit',
        [program.benefit, program.hash, new Date().toISOString()],
      );
      if (rows.length > 0) {
        await appendAuditEvent(tx, {
          actor: 'entitle',
          action: 'ruleset.first_active',
          subject: program.benefit,
          reason: 'the first rule set served for this benefit',
          evidence: { ruleset: { id: program.id, hash: program.hash } },
        });
      }
    }
  });
}

/**
 * The rule sets to serve: for each benefit, the version the database says is active. The rule
 * sets on disk seed a benefit served for the first time; after that, a different rule set on disk
 * is reported (`differing`) and not served, because rule changes reach citizens only through a
 * release.
 */
export async function resolveActiveRuleSets(
  db: Database,
  onDisk: ReadonlyMap<string, RuleSet>,
): Promise<{ ruleSets: Map<string, RuleSet>; differing: { benefit: string; onDisk: string; active: string }[] }> {
  await seedActiveVersions(
    db,
    [...onDisk.values()].map((r) => r.program),
  );
  const active = await activeVersions(db);
  const ruleSets = new Map(onDisk);
  const differing: { benefit: string; onDisk: string; active: string }[] = [];
  for (const [benefit, disk] of onDisk) {
    const version = active.get(benefit);
    if (!version || version.hash === disk.hash) continue;
    ruleSets.set(benefit, ruleSetFromBundle(await storedBundle(db, version.hash), `stored rule set ${version.hash}`));
    differing.push({ benefit, onDisk: disk.hash, active: version.hash });
  }
  return { ruleSets, differing };
}
