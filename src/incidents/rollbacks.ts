import type { AutomaticRollback } from '../releases/index.ts';
import type { Database } from '../store/index.ts';
import { declareIncident, type StoredIncident } from './repository.ts';

export const SERVICE_ACTOR = 'entitle';

/**
 * The incident for an automatic rollback. Its priority comes from the data: if the release made
 * decisions (a canary), citizens may hold wrong decisions that need correcting (P2); if it was
 * only in shadow, no citizen was decided by it (P3). Opened once per release.
 */
export async function openRollbackIncident(
  db: Database,
  rollback: AutomaticRollback,
): Promise<{ incident: StoredIncident; created: boolean; decisions: number }> {
  const { release } = rollback;
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM decisions WHERE release_id = $1', [
    release.id,
  ]);
  const decisions = Number(rows[0]?.n ?? 0);
  const { incident, created } = await declareIncident(db, {
    title: `A ${release.benefit} rules release was rolled back automatically`,
    priority: decisions > 0 ? 'P2' : 'P3',
    actor: SERVICE_ACTOR,
    source: 'release-rollback',
    benefits: [release.benefit],
    journeys: ['decisions_consistent'],
    releaseIds: [release.id],
    startedAt: rollback.firstUnexpectedAt ?? new Date().toISOString(),
    dedupKey: `release-rollback:${release.id}`,
    runbook: 'docs/runbooks/EntitleReleaseRolledBackAutomatically.md',
    text:
      `Release ${release.id} (${release.summary}) failed its gates after ${rollback.compared} comparisons and was rolled back: ${rollback.reasons.join('; ')}. ` +
      (decisions > 0
        ? `It decided ${decisions} application${decisions === 1 ? '' : 's'} while in its canary: list them with "entitle release affected ${release.id}".`
        : 'It was in shadow only: no citizen was decided by it.'),
    data: { release: release.id, reasons: rollback.reasons, compared: rollback.compared, decisions },
  });
  return { incident, created, decisions };
}
