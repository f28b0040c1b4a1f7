/**
 * Promotion and rollback: the gates and approvals checked, the pointer switched (active-versions.ts)
 * under its row lock, scheduled promotions made at their effective time, and the automatic
 * rollback of a release whose gates fail, judged on the counts every instance stored.
 */
import { appendAuditEvent } from '../audit/index.ts';
import { EntitleError } from '../errors/index.ts';
import { freezeWindowAt } from '../freeze-windows/index.ts';
import { samePerson } from '../keys/index.ts';
import type { Database, Queryable } from '../store/index.ts';
import { formatLondon } from '../uk-time/index.ts';
import { lockedPointer } from './active-versions.ts';
import { judge, shadowWindowOf, type GateReport, type GateSettings, type ShadowWindow } from './gates.ts';
import { checkTransition, UNDER_TEST, type Release } from './model.ts';
import { changed, getRelease, RELEASE_CHANNEL, SERVICE_ACTOR, step } from './repository.ts';
import { readStats, type ReleaseStats } from './stats.ts';

export interface PromotionResult {
  readonly release: Release;
  /** True when the release waits for its effective time; the service promotes it then. */
  readonly scheduled: boolean;
  readonly gates: GateReport;
}

/**
 * Promotes a release that passed its gates and was approved by someone other than its author.
 * Inside a freeze window it also needs an emergency override approved by two people. If its
 * effective time is still ahead, the promotion is scheduled and happens then, with no one awake.
 */
export async function promoteRelease(
  db: Database,
  id: string,
  actor: string,
  reason: string,
  gates: GateSettings,
  now = new Date(),
): Promise<PromotionResult> {
  let scheduled = false;
  let report: GateReport | undefined;
  const release = await step(db, id, async (tx, current) => {
    checkTransition(current, 'active');
    const window = shadowWindowOf(current, gates, now);
    report = judge(await readStats(tx, id), gates, window);
    await checkPromotable(tx, current, report, now);
    if (Date.parse(current.effectiveAt) > now.getTime()) {
      scheduled = true;
      await tx.query('UPDATE releases SET promote_at = $2 WHERE id = $1', [id, current.effectiveAt]);
      await appendAuditEvent(tx, {
        actor,
        action: 'release.scheduled',
        subject: id,
        reason,
        evidence: { promoteAt: current.effectiveAt, shownAs: formatLondon(current.effectiveAt), gates: report, window },
      });
      await tx.query('SELECT pg_notify($1, $2)', [RELEASE_CHANNEL, id]);
      return;
    }
    await activate(tx, current, actor, reason, { gates: report, ...windowEvidence(window) });
  });
  return { release, scheduled, gates: report! };
}

/**
 * The shadow window as the promotion's evidence: always its length and start, and when two
 * emergency approvals waived what was left of it, who, why, and how many minutes they waived.
 */
function windowEvidence(window: ShadowWindow): Record<string, unknown> {
  return {
    shadowWindow: {
      minutes: window.minutes,
      startedAt: window.startedAt,
      ...(window.waivedBy.length > 0 && window.remainingMinutes > 0
        ? { waivedMinutes: window.remainingMinutes, waivedBy: window.waivedBy }
        : {}),
    },
  };
}

async function checkPromotable(tx: Queryable, release: Release, report: GateReport, now: Date): Promise<void> {
  if (!release.approvals.some((a) => a.kind === 'promotion' && !samePerson(a.approver, release.author))) {
    throw new EntitleError('ENTITLE_RELEASE_APPROVAL_REQUIRED', 'the release has not been approved', [
      {
        field: 'release',
        message: `someone other than its author (${release.author}) must run "entitle release approve ${release.id}" first`,
      },
    ]);
  }
  if (report.verdict !== 'pass') {
    throw new EntitleError(
      'ENTITLE_RELEASE_GATE_CLOSED',
      `the gates say ${report.verdict}`,
      report.reasons.map((message) => ({ field: 'gates', message })),
    );
  }
  const frozen = await freezeWindowAt(tx, now);
  if (frozen) {
    const overrides = release.approvals.filter((a) => a.kind === 'emergency');
    if (overrides.length < 2) {
      throw new EntitleError(
        'ENTITLE_FREEZE_WINDOW',
        `rule changes are frozen until ${formatLondon(frozen.endsAt)}: ${frozen.reason}`,
        [
          {
            field: 'release',
            message: `an emergency override needs two people to run "entitle release approve ${release.id} --emergency --reason TEXT" (${overrides.length} so far)`,
          },
        ],
      );
    }
  }
}

/** The pointer switch: the release decides every application of its benefit from now on. */
async function activate(
  tx: Queryable,
  release: Release,
  actor: string,
  reason: string,
  evidence: Record<string, unknown>,
): Promise<void> {
  // The pointer row is locked first, so a rollback or another promotion of this benefit waits
  // and then sees this one: two can never both take "the previous version" as theirs.
  const previous = await lockedPointer(tx, release.benefit);
  if (previous?.releaseId) {
    const old = await getRelease(tx, previous.releaseId, true);
    if (old.state === 'active')
      await changed(tx, old, 'superseded', {}, actor, `superseded by release ${release.id}`, { by: release.id });
  }
  await tx.query(
    `INSERT INTO active_rulesets (benefit, ruleset_hash, release_id, changed_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (benefit) DO UPDATE SET ruleset_hash = excluded.ruleset_hash, release_id = excluded.release_id, changed_at = excluded.changed_at`,
    [release.benefit, release.rulesetHash, release.id, new Date().toISOString()],
  );
  await rebaseUnderTest(
    tx,
    release.benefit,
    release.rulesetHash,
    release.id,
    actor,
    `release ${release.id} became active`,
    release.id,
  );
  await changed(
    tx,
    release,
    'active',
    {
      promote_at: null,
      baseline_hash: previous?.hash ?? release.baselineHash,
      baseline_release_id: previous?.releaseId ?? release.baselineReleaseId,
    },
    actor,
    reason,
    { ...evidence, previous: previous?.hash ?? null },
  );
}

/** What a tick of scheduled promotions did, for the watcher to report. */
export interface ScheduledOutcome {
  readonly promoted: readonly Release[];
  /** Due but waiting: too few comparisons for a verdict yet. */
  readonly waiting: readonly Release[];
  /** Due but refused (not approved, gates failed, frozen): the schedule is cancelled. */
  readonly cancelled: readonly { readonly release: Release; readonly reason: string }[];
}

/** Promotes every scheduled release whose time has come; run by each instance, once per tick. */
export async function runScheduledPromotions(
  db: Database,
  gates: GateSettings,
  now = new Date(),
): Promise<ScheduledOutcome> {
  const { rows } = await db.query<{ id: string }>(
    "SELECT id FROM releases WHERE promote_at IS NOT NULL AND promote_at <= $1 AND state IN ('shadow', 'canary')",
    [now.toISOString()],
  );
  const outcome = {
    promoted: [] as Release[],
    waiting: [] as Release[],
    cancelled: [] as { release: Release; reason: string }[],
  };
  for (const { id } of rows) {
    await db.transaction(async (tx) => {
      const release = await getRelease(tx, id, true);
      // Another instance may have promoted it while this one waited for the lock.
      if (release.promoteAt === null || !UNDER_TEST.includes(release.state)) return;
      const window = shadowWindowOf(release, gates, now);
      const report = judge(await readStats(tx, id), gates, window);
      // Too little evidence, or too little time in shadow, pauses: the promotion waits, never goes ahead.
      if (report.verdict === 'inconclusive') {
        outcome.waiting.push(release);
        return;
      }
      try {
        await checkPromotable(tx, release, report, now);
      } catch (error) {
        const reason =
          error instanceof EntitleError
            ? [error.message, ...error.problems.map((p) => p.message)].join(': ')
            : (error as Error).message;
        await tx.query('UPDATE releases SET promote_at = NULL WHERE id = $1', [id]);
        await appendAuditEvent(tx, {
          actor: SERVICE_ACTOR,
          action: 'release.schedule_cancelled',
          subject: id,
          reason,
          evidence: { gates: report },
        });
        await tx.query('SELECT pg_notify($1, $2)', [RELEASE_CHANNEL, id]);
        outcome.cancelled.push({ release, reason });
        return;
      }
      await activate(
        tx,
        release,
        SERVICE_ACTOR,
        `scheduled for its effective time, ${formatLondon(release.effectiveAt)}`,
        { gates: report, ...windowEvidence(window) },
      );
      outcome.promoted.push(release);
    });
  }
  return outcome;
}

/**
 * Rolls a release back. One in shadow or canary stops deciding or being compared at once; an
 * active one hands its benefit back to the version it replaced. The evidence is kept.
 */
export async function rollbackRelease(
  db: Database,
  id: string,
  actor: string,
  reason: string,
  evidence: Record<string, unknown> = {},
): Promise<Release> {
  return step(db, id, (tx, release) => rollBack(tx, release, actor, reason, evidence));
}

async function rollBack(
  tx: Queryable,
  release: Release,
  actor: string,
  reason: string,
  evidence: Record<string, unknown>,
): Promise<void> {
  checkTransition(release, 'rolled-back');
  if (release.state === 'active') {
    if (!release.baselineHash) throw new Error(`release ${release.id} has no previous version to return to`);
    const pointer = await lockedPointer(tx, release.benefit);
    if (pointer?.releaseId !== release.id) {
      // Only the release the benefit points at can hand it back; anything else is a record out of
      // step with the pointer, and must not move it.
      throw new EntitleError(
        'ENTITLE_RELEASE_TRANSITION_INVALID',
        `release ${release.id} is recorded as active but ${release.benefit} is decided by ${pointer?.releaseId ?? pointer?.hash ?? 'nothing'}`,
        [
          {
            field: 'release',
            message: 'roll back the release that decides the benefit now ("entitle release list" shows it)',
          },
        ],
      );
    }
    await tx.query(
      'UPDATE active_rulesets SET ruleset_hash = $2, release_id = $3, changed_at = $4 WHERE benefit = $1',
      [release.benefit, release.baselineHash, release.baselineReleaseId, new Date().toISOString()],
    );
    await rebaseUnderTest(
      tx,
      release.benefit,
      release.baselineHash,
      release.baselineReleaseId,
      actor,
      `release ${release.id} was rolled back`,
    );
    if (release.baselineReleaseId) {
      // The release it replaced decides again: superseded is final for people, not for rollback.
      await tx.query("UPDATE releases SET state = 'active', updated_at = $2 WHERE id = $1 AND state = 'superseded'", [
        release.baselineReleaseId,
        new Date().toISOString(),
      ]);
      await appendAuditEvent(tx, {
        actor,
        action: 'release.reinstated',
        subject: release.baselineReleaseId,
        reason: `release ${release.id} was rolled back`,
        evidence: { rolledBack: release.id },
      });
    }
  }
  await changed(tx, release, 'rolled-back', { promote_at: null }, actor, reason, {
    ...evidence,
    returnedTo: release.baselineHash,
  });
}

/**
 * When the active version of a benefit changes while another release of it is under test, that
 * release's comparisons so far were against the old version. They are set aside (the counts
 * start again, the kept cases stay) and its baseline moves, so its verdict never mixes evidence
 * from two versions.
 */
async function rebaseUnderTest(
  tx: Queryable,
  benefit: string,
  hash: string,
  releaseId: string | null,
  actor: string,
  why: string,
  except?: string,
): Promise<void> {
  const { rows } = await tx.query<{ id: string }>(
    'SELECT id FROM releases WHERE benefit = $1 AND state = ANY($2) AND id <> $3 FOR UPDATE',
    [benefit, UNDER_TEST, except ?? '00000000-0000-0000-0000-000000000000'],
  );
  for (const { id } of rows) {
    const before = await readStats(tx, id);
    await tx.query('UPDATE releases SET baseline_hash = $2, baseline_release_id = $3, updated_at = $4 WHERE id = $1', [
      id,
      hash,
      releaseId,
      new Date().toISOString(),
    ]);
    await tx.query('DELETE FROM release_stats WHERE release_id = $1', [id]);
    await tx.query('INSERT INTO release_stats (release_id) VALUES ($1)', [id]);
    await appendAuditEvent(tx, {
      actor,
      action: 'release.rebased',
      subject: id,
      reason: `the active version changed (${why}): comparisons start again against it`,
      evidence: { baseline: hash, setAside: before },
    });
  }
}

/** An automatic rollback, as the instance that made it reports it (the incidents module opens an incident). */
export interface AutomaticRollback {
  readonly release: Release;
  readonly reasons: readonly string[];
  readonly compared: number;
  readonly firstUnexpectedAt: string | null;
}

/**
 * The automatic rollback: judges a release under test on the comparisons every instance has
 * stored and, if its gates fail, rolls it back in the same transaction, with the gate report,
 * the counts and the sample cases as evidence. Any instance may call it at any time: the row
 * lock makes the verdict and the rollback one step, and a release already rolled back is left.
 */
export async function rollbackIfFailing(
  db: Database,
  id: string,
  gates: GateSettings,
): Promise<{ rolledBack: Release | undefined; report: GateReport; stats: ReleaseStats }> {
  // Judged first without a lock: passing and inconclusive releases, the usual case, cost every
  // instance one read a second, not a row lock.
  let stats = await readStats(db, id);
  let report: GateReport = judge(stats, gates);
  if (report.verdict !== 'fail') return { rolledBack: undefined, report, stats };
  let rolledBack = false;
  await db.transaction(async (tx) => {
    const release = await getRelease(tx, id, true);
    if (!UNDER_TEST.includes(release.state)) return;
    stats = await readStats(tx, id);
    report = judge(stats, gates);
    if (report.verdict !== 'fail') return;
    const { rows } = await tx.query<{ id: number; kind: string }>(
      'SELECT id, kind FROM release_samples WHERE release_id = $1 ORDER BY id LIMIT 20',
      [id],
    );
    await rollBack(tx, release, SERVICE_ACTOR, `automatic rollback: ${report.reasons.join('; ')}`, {
      automatic: true,
      gates: report,
      stats,
      samples: rows.map((r) => ({ id: Number(r.id), kind: r.kind })),
      firstUnexpectedAt: stats.firstUnexpectedAt,
    });
    rolledBack = true;
  });
  return { rolledBack: rolledBack ? await getRelease(db, id) : undefined, report, stats };
}
