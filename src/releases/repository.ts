import { v7 as uuidv7, validate as isUuid } from 'uuid';
import { appendAuditEvent } from '../audit/index.ts';
import { storeBundle, storedBundle } from '../decisions/index.ts';
import { EntitleError } from '../errors/index.ts';
import { ruleSetFromBundle, type RuleProgram, type RuleSet } from '../rules/index.ts';
import type { Database, Queryable } from '../store/index.ts';
import type { Expectations } from './expectations.ts';
import { freezeWindowAt } from '../freeze-windows/index.ts';
import { EMPTY_STATS, judge, type GateReport, type GateSettings, type ReleaseStats } from './gates.ts';
import { formatLondon } from '../uk-time/index.ts';
import { checkTransition, percentText, UNDER_TEST, type Approval, type Release, type ReleaseState } from './model.ts';
import type { Tally } from './routing.ts';

/** Instances listen on this channel; every release change notifies it in its own transaction. */
export const RELEASE_CHANNEL = 'entitle_releases';

interface ReleaseRow {
  id: string;
  benefit: string;
  ruleset_hash: string;
  ruleset_id: string;
  author: string;
  summary: string;
  effective_at: string;
  expectations: Expectations;
  state: ReleaseState;
  baseline_hash: string | null;
  baseline_release_id: string | null;
  shadow_share_ppm: number;
  preview: boolean;
  canary_basis_points: number;
  promote_at: string | null;
  created_at: string;
  updated_at: string;
}

function fromRow(row: ReleaseRow, approvals: readonly Approval[]): Release {
  return {
    id: row.id,
    benefit: row.benefit,
    rulesetHash: row.ruleset_hash,
    rulesetId: row.ruleset_id,
    author: row.author,
    summary: row.summary,
    effectiveAt: row.effective_at,
    expectations: row.expectations,
    state: row.state,
    baselineHash: row.baseline_hash,
    baselineReleaseId: row.baseline_release_id,
    shadowSharePpm: Number(row.shadow_share_ppm),
    preview: row.preview,
    canaryBasisPoints: Number(row.canary_basis_points),
    promoteAt: row.promote_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    approvals,
  };
}

async function approvalsOf(db: Queryable, id: string): Promise<Approval[]> {
  const { rows } = await db.query<{ kind: Approval['kind']; approver: string; reason: string; approved_at: string }>(
    'SELECT kind, approver, reason, approved_at FROM release_approvals WHERE release_id = $1 ORDER BY approved_at',
    [id],
  );
  return rows.map((r) => ({ kind: r.kind, approver: r.approver, reason: r.reason, approvedAt: r.approved_at }));
}

/** Reads a release; `forUpdate` locks it for the rest of the transaction. */
export async function getRelease(db: Queryable, id: string, forUpdate = false): Promise<Release> {
  const notFound = new EntitleError('ENTITLE_RELEASE_NOT_FOUND', 'there is no release with that id', [{ field: 'release', message: 'give a release id as "entitle release list" shows it' }]);
  if (!isUuid(id)) throw notFound;
  const { rows } = await db.query<ReleaseRow>(`SELECT * FROM releases WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  const row = rows[0];
  if (!row) throw notFound;
  return fromRow(row, await approvalsOf(db, id));
}

/** Releases matching `where` (SQL over the releases table), oldest first, with their approvals. */
async function releasesWhere(db: Queryable, where: string, params: unknown[]): Promise<Release[]> {
  const { rows } = await db.query<ReleaseRow>(`SELECT * FROM releases WHERE ${where} ORDER BY created_at`, params);
  return Promise.all(rows.map(async (row) => fromRow(row, await approvalsOf(db, row.id))));
}

export async function listReleases(db: Queryable, benefit?: string): Promise<Release[]> {
  return benefit ? releasesWhere(db, 'benefit = $1', [benefit]) : releasesWhere(db, 'true', []);
}

/** The releases compared with live traffic now. */
export async function releasesUnderTest(db: Queryable): Promise<Release[]> {
  return releasesWhere(db, 'state = ANY($1)', [UNDER_TEST]);
}

export interface ActiveVersion {
  readonly benefit: string;
  readonly hash: string;
  readonly releaseId: string | null;
  readonly changedAt: string;
}

/** The benefit's active version, locked until the transaction ends. */
async function lockedPointer(tx: Queryable, benefit: string): Promise<ActiveVersion | undefined> {
  const { rows } = await tx.query<{ benefit: string; ruleset_hash: string; release_id: string | null; changed_at: string }>('SELECT * FROM active_rulesets WHERE benefit = $1 FOR UPDATE', [benefit]);
  const r = rows[0];
  return r ? { benefit: r.benefit, hash: r.ruleset_hash, releaseId: r.release_id, changedAt: r.changed_at } : undefined;
}

export async function activeVersions(db: Queryable): Promise<Map<string, ActiveVersion>> {
  const { rows } = await db.query<{ benefit: string; ruleset_hash: string; release_id: string | null; changed_at: string }>('SELECT * FROM active_rulesets');
  return new Map(rows.map((r) => [r.benefit, { benefit: r.benefit, hash: r.ruleset_hash, releaseId: r.release_id, changedAt: r.changed_at }]));
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
      const { rows } = await tx.query('INSERT INTO active_rulesets (benefit, ruleset_hash, changed_at) VALUES ($1, $2, $3) ON CONFLICT (benefit) DO NOTHING RETURNING benefit', [
        program.benefit,
        program.hash,
        new Date().toISOString(),
      ]);
      if (rows.length > 0) {
        await appendAuditEvent(tx, { actor: 'entitle', action: 'ruleset.first_active', subject: program.benefit, reason: 'the first rule set served for this benefit', evidence: { ruleset: { id: program.id, hash: program.hash } } });
      }
    }
  });
}

async function changed(tx: Queryable, release: Release, to: ReleaseState, fields: Record<string, unknown>, actor: string, reason: string, evidence: Record<string, unknown>): Promise<void> {
  const sets = Object.keys(fields).map((column, i) => `, ${column} = $${i + 4}`);
  await tx.query(`UPDATE releases SET state = $2, updated_at = $3${sets.join('')} WHERE id = $1`, [release.id, to, new Date().toISOString(), ...Object.values(fields)]);
  await appendAuditEvent(tx, { actor, action: `release.${to === release.state ? `${to}_changed` : to.replace('-', '_')}`, subject: release.id, reason, evidence: { from: release.state, to, benefit: release.benefit, ruleset: release.rulesetHash, ...evidence } });
  await tx.query('SELECT pg_notify($1, $2)', [RELEASE_CHANNEL, release.id]);
}

export interface NewRelease {
  readonly program: RuleProgram;
  readonly author: string;
  readonly summary: string;
  readonly effectiveAt: string;
  readonly expectations: Expectations;
  /** The golden tests run on the candidate: it is validated only when all pass. */
  readonly golden: { readonly total: number; readonly failed: readonly string[] };
}

/** Records a draft and validates it at once: compiled (it is) and every golden test passing. */
export async function createRelease(db: Database, input: NewRelease): Promise<Release> {
  const id = uuidv7();
  await db.transaction(async (tx) => {
    const { program } = input;
    await storeBundle(tx, program.bundle, program.hash);
    const now = new Date().toISOString();
    await tx.query(
      `INSERT INTO releases (id, benefit, ruleset_hash, ruleset_id, author, summary, effective_at, expectations, state, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'draft', $9, $9)`,
      [id, program.benefit, program.hash, program.id, input.author, input.summary, input.effectiveAt, JSON.stringify(input.expectations), now],
    );
    const draft = await getRelease(tx, id, true);
    await appendAuditEvent(tx, {
      actor: input.author,
      action: 'release.created',
      subject: id,
      reason: input.summary,
      evidence: { benefit: program.benefit, ruleset: { id: program.id, hash: program.hash }, effectiveAt: input.effectiveAt, expectations: input.expectations },
    });
    const { total, failed } = input.golden;
    if (total > 0 && failed.length === 0) {
      await changed(tx, draft, 'validated', {}, 'entitle', `compiled, and all ${total} golden tests pass`, { goldenTests: total });
    } else {
      const reason = total === 0 ? 'the rule set has no golden tests' : `${failed.length} of ${total} golden tests fail`;
      await changed(tx, draft, 'rejected', {}, 'entitle', reason, { goldenTests: total, failed: failed.slice(0, 20) });
    }
  });
  return getRelease(db, id);
}

async function step<T>(db: Database, id: string, work: (tx: Queryable, release: Release) => Promise<T>): Promise<Release> {
  await db.transaction(async (tx) => work(tx, await getRelease(tx, id, true)));
  return getRelease(db, id);
}

/** Starts (or changes) shadow evaluation: a share of live assessments also goes to the candidate. */
export async function startShadow(db: Database, id: string, options: { sharePercent: number; preview: boolean }, actor: string, reason: string): Promise<Release> {
  checkShare(options.sharePercent, 'percent', 0);
  return step(db, id, async (tx, release) => {
    checkTransition(release, 'shadow');
    const { rows } = await tx.query<{ id: string; state: string }>('SELECT id, state FROM releases WHERE benefit = $1 AND state = ANY($2) AND id <> $3', [release.benefit, UNDER_TEST, release.id]);
    if (rows[0]) {
      throw new EntitleError('ENTITLE_RELEASE_TRANSITION_INVALID', `release ${rows[0].id} for ${release.benefit} is already in ${rows[0].state}`, [
        { field: 'release', message: 'one release per benefit is tested at a time: promote, roll back or reject that one first' },
      ]);
    }
    const active = (await activeVersions(tx)).get(release.benefit);
    if (!active) throw new EntitleError('ENTITLE_RELEASE_TRANSITION_INVALID', `no version of ${release.benefit} is active yet`, [{ field: 'release', message: 'start the service once with the current rules, so there is an active version to compare with' }]);
    await tx.query('INSERT INTO release_stats (release_id) VALUES ($1) ON CONFLICT (release_id) DO NOTHING', [release.id]);
    const sharePpm = Math.round(options.sharePercent * 10_000);
    if (sharePpm < 1) throw shareTooSmall('percent', '0.0001');
    try {
      await changed(tx, release, 'shadow', { shadow_share_ppm: sharePpm, preview: options.preview, baseline_hash: active.hash, baseline_release_id: active.releaseId }, actor, reason, {
        sharePercent: options.sharePercent,
        preview: options.preview ? formatLondon(release.effectiveAt) : false,
        baseline: active.hash,
      });
    } catch (error) {
      // Another release of this benefit started shadow at the same moment (releases_one_under_test).
      if ((error as { code?: string }).code === '23505') {
        throw new EntitleError('ENTITLE_RELEASE_TRANSITION_INVALID', `another release for ${release.benefit} started shadow at the same time`, [
          { field: 'release', message: 'one release per benefit is tested at a time: promote, roll back or reject that one first' },
        ]);
      }
      throw error;
    }
  });
}

function shareTooSmall(field: string, smallest: string): EntitleError {
  return new EntitleError('ENTITLE_INPUT_INVALID', `${field} is too small to select any application`, [{ field, message: `enter ${smallest} or more` }]);
}

function checkShare(percent: number, field: string, min: number): void {
  if (!Number.isFinite(percent) || percent <= min || percent > 100) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${field} must be more than ${min} and at most 100`, [{ field, message: `enter a percentage above ${min} and up to 100, such as 5` }]);
  }
}

/** Starts or widens the canary: that share of applications is decided by the candidate. */
export async function setCanary(db: Database, id: string, percent: number, actor: string, reason: string): Promise<Release> {
  checkShare(percent, 'percent', 0);
  const basisPoints = Math.round(percent * 100);
  if (basisPoints < 1) throw shareTooSmall('percent', '0.01');
  return step(db, id, async (tx, release) => {
    checkTransition(release, 'canary');
    if (basisPoints < release.canaryBasisPoints) {
      throw new EntitleError('ENTITLE_RELEASE_TRANSITION_INVALID', `the canary is at ${percentText(release.canaryBasisPoints)} and only grows`, [
        { field: 'percent', message: 'applications already decided by the candidate stay with it: give a larger percentage, or roll the release back' },
      ]);
    }
    await changed(tx, release, 'canary', { canary_basis_points: basisPoints }, actor, reason, { percent });
  });
}

/** Records an approval. No one may approve their own release, and each person approves once. */
export async function approveRelease(db: Database, id: string, kind: Approval['kind'], approver: string, reason: string): Promise<Release> {
  return step(db, id, async (tx, release) => {
    if (approver === release.author) {
      throw new EntitleError('ENTITLE_RELEASE_APPROVAL_REQUIRED', `${approver} wrote this release and cannot approve it`, [{ field: 'actor', message: 'a second person must approve: ask someone other than the author' }]);
    }
    if (['superseded', 'rejected', 'rolled-back', 'active'].includes(release.state)) checkTransition(release, 'active');
    if (release.approvals.some((a) => a.kind === kind && a.approver === approver)) {
      throw new EntitleError('ENTITLE_RELEASE_APPROVAL_REQUIRED', `${approver} has already approved this release`, [{ field: 'actor', message: 'each person approves once; ask another person' }]);
    }
    await tx.query('INSERT INTO release_approvals (release_id, kind, approver, reason, approved_at) VALUES ($1, $2, $3, $4, $5)', [id, kind, approver, reason, new Date().toISOString()]);
    await appendAuditEvent(tx, { actor: approver, action: kind === 'promotion' ? 'release.approved' : 'release.emergency_approved', subject: id, reason, evidence: { state: release.state } });
    await tx.query('SELECT pg_notify($1, $2)', [RELEASE_CHANNEL, id]);
  });
}

export async function readStats(db: Queryable, id: string): Promise<ReleaseStats> {
  const { rows } = await db.query<Record<string, string | null>>('SELECT * FROM release_stats WHERE release_id = $1', [id]);
  const row = rows[0];
  if (!row) return EMPTY_STATS;
  const n = (column: string) => Number(row[column] ?? 0);
  return {
    identical: n('identical'),
    expected: n('expected'),
    unexpected: n('unexpected'),
    candidateError: n('candidate_error'),
    activeError: n('active_error'),
    bothError: n('both_error'),
    aaIdentical: n('aa_identical'),
    aaDifferent: n('aa_different'),
    activeMicros: n('active_micros'),
    candidateMicros: n('candidate_micros'),
    timed: n('timed'),
    firstUnexpectedAt: row.first_unexpected_at ?? null,
  };
}

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
export async function promoteRelease(db: Database, id: string, actor: string, reason: string, gates: GateSettings, now = new Date()): Promise<PromotionResult> {
  let scheduled = false;
  let report: GateReport | undefined;
  const release = await step(db, id, async (tx, current) => {
    checkTransition(current, 'active');
    report = judge(await readStats(tx, id), gates);
    await checkPromotable(tx, current, report, now);
    if (Date.parse(current.effectiveAt) > now.getTime()) {
      scheduled = true;
      await tx.query('UPDATE releases SET promote_at = $2 WHERE id = $1', [id, current.effectiveAt]);
      await appendAuditEvent(tx, { actor, action: 'release.scheduled', subject: id, reason, evidence: { promoteAt: current.effectiveAt, shownAs: formatLondon(current.effectiveAt), gates: report } });
      await tx.query('SELECT pg_notify($1, $2)', [RELEASE_CHANNEL, id]);
      return;
    }
    await activate(tx, current, actor, reason, { gates: report });
  });
  return { release, scheduled, gates: report! };
}

async function checkPromotable(tx: Queryable, release: Release, report: GateReport, now: Date): Promise<void> {
  if (!release.approvals.some((a) => a.kind === 'promotion' && a.approver !== release.author)) {
    throw new EntitleError('ENTITLE_RELEASE_APPROVAL_REQUIRED', 'the release has not been approved', [
      { field: 'release', message: `someone other than its author (${release.author}) must run "entitle release approve ${release.id}" first` },
    ]);
  }
  if (report.verdict !== 'pass') {
    throw new EntitleError('ENTITLE_RELEASE_GATE_CLOSED', `the gates say ${report.verdict}`, report.reasons.map((message) => ({ field: 'gates', message })));
  }
  const frozen = await freezeWindowAt(tx, now);
  if (frozen) {
    const overrides = release.approvals.filter((a) => a.kind === 'emergency');
    if (overrides.length < 2) {
      throw new EntitleError('ENTITLE_FREEZE_WINDOW', `rule changes are frozen until ${formatLondon(frozen.endsAt)}: ${frozen.reason}`, [
        { field: 'release', message: `an emergency override needs two people to run "entitle release approve ${release.id} --emergency --reason TEXT" (${overrides.length} so far)` },
      ]);
    }
  }
}

/** The pointer switch: the release decides every application of its benefit from now on. */
async function activate(tx: Queryable, release: Release, actor: string, reason: string, evidence: Record<string, unknown>): Promise<void> {
  // The pointer row is locked first, so a rollback or another promotion of this benefit waits
  // and then sees this one: two can never both take "the previous version" as theirs.
  const previous = await lockedPointer(tx, release.benefit);
  if (previous?.releaseId) {
    const old = await getRelease(tx, previous.releaseId, true);
    if (old.state === 'active') await changed(tx, old, 'superseded', {}, actor, `superseded by release ${release.id}`, { by: release.id });
  }
  await tx.query(
    `INSERT INTO active_rulesets (benefit, ruleset_hash, release_id, changed_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (benefit) DO UPDATE SET ruleset_hash = excluded.ruleset_hash, release_id = excluded.release_id, changed_at = excluded.changed_at`,
    [release.benefit, release.rulesetHash, release.id, new Date().toISOString()],
  );
  await rebaseUnderTest(tx, release.benefit, release.rulesetHash, release.id, actor, `release ${release.id} became active`, release.id);
  await changed(
    tx,
    release,
    'active',
    { promote_at: null, baseline_hash: previous?.hash ?? release.baselineHash, baseline_release_id: previous?.releaseId ?? release.baselineReleaseId },
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
export async function runScheduledPromotions(db: Database, gates: GateSettings, now = new Date()): Promise<ScheduledOutcome> {
  const { rows } = await db.query<{ id: string }>("SELECT id FROM releases WHERE promote_at IS NOT NULL AND promote_at <= $1 AND state IN ('shadow', 'canary')", [now.toISOString()]);
  const outcome = { promoted: [] as Release[], waiting: [] as Release[], cancelled: [] as { release: Release; reason: string }[] };
  for (const { id } of rows) {
    await db.transaction(async (tx) => {
      const release = await getRelease(tx, id, true);
      // Another instance may have promoted it while this one waited for the lock.
      if (release.promoteAt === null || !UNDER_TEST.includes(release.state)) return;
      const report = judge(await readStats(tx, id), gates);
      // Too little evidence pauses: the promotion waits for enough comparisons, never goes ahead.
      if (report.verdict === 'inconclusive') {
        outcome.waiting.push(release);
        return;
      }
      try {
        await checkPromotable(tx, release, report, now);
      } catch (error) {
        const reason = error instanceof EntitleError ? [error.message, ...error.problems.map((p) => p.message)].join(': ') : (error as Error).message;
        await tx.query('UPDATE releases SET promote_at = NULL WHERE id = $1', [id]);
        await appendAuditEvent(tx, { actor: SERVICE_ACTOR, action: 'release.schedule_cancelled', subject: id, reason, evidence: { gates: report } });
        await tx.query('SELECT pg_notify($1, $2)', [RELEASE_CHANNEL, id]);
        outcome.cancelled.push({ release, reason });
        return;
      }
      await activate(tx, release, SERVICE_ACTOR, `scheduled for its effective time, ${formatLondon(release.effectiveAt)}`, { gates: report });
      outcome.promoted.push(release);
    });
  }
  return outcome;
}

/**
 * Rolls a release back. One in shadow or canary stops deciding or being compared at once; an
 * active one hands its benefit back to the version it replaced. The evidence is kept.
 */
export async function rollbackRelease(db: Database, id: string, actor: string, reason: string, evidence: Record<string, unknown> = {}): Promise<Release> {
  return step(db, id, (tx, release) => rollBack(tx, release, actor, reason, evidence));
}

async function rollBack(tx: Queryable, release: Release, actor: string, reason: string, evidence: Record<string, unknown>): Promise<void> {
  checkTransition(release, 'rolled-back');
  if (release.state === 'active') {
    if (!release.baselineHash) throw new Error(`release ${release.id} has no previous version to return to`);
    const pointer = await lockedPointer(tx, release.benefit);
    if (pointer?.releaseId !== release.id) {
      // Only the release the benefit points at can hand it back; anything else is a record out of
      // step with the pointer, and must not move it.
      throw new EntitleError('ENTITLE_RELEASE_TRANSITION_INVALID', `release ${release.id} is recorded as active but ${release.benefit} is decided by ${pointer?.releaseId ?? pointer?.hash ?? 'nothing'}`, [
        { field: 'release', message: 'roll back the release that decides the benefit now ("entitle release list" shows it)' },
      ]);
    }
    await tx.query('UPDATE active_rulesets SET ruleset_hash = $2, release_id = $3, changed_at = $4 WHERE benefit = $1', [release.benefit, release.baselineHash, release.baselineReleaseId, new Date().toISOString()]);
    await rebaseUnderTest(tx, release.benefit, release.baselineHash, release.baselineReleaseId, actor, `release ${release.id} was rolled back`);
    if (release.baselineReleaseId) {
      // The release it replaced decides again: superseded is final for people, not for rollback.
      await tx.query("UPDATE releases SET state = 'active', updated_at = $2 WHERE id = $1 AND state = 'superseded'", [release.baselineReleaseId, new Date().toISOString()]);
      await appendAuditEvent(tx, { actor, action: 'release.reinstated', subject: release.baselineReleaseId, reason: `release ${release.id} was rolled back`, evidence: { rolledBack: release.id } });
    }
  }
  await changed(tx, release, 'rolled-back', { promote_at: null }, actor, reason, { ...evidence, returnedTo: release.baselineHash });
}

/**
 * When the active version of a benefit changes while another release of it is under test, that
 * release's comparisons so far were against the old version. They are set aside (the counts
 * start again, the kept cases stay) and its baseline moves, so its verdict never mixes evidence
 * from two versions.
 */
async function rebaseUnderTest(tx: Queryable, benefit: string, hash: string, releaseId: string | null, actor: string, why: string, except?: string): Promise<void> {
  const { rows } = await tx.query<{ id: string }>('SELECT id FROM releases WHERE benefit = $1 AND state = ANY($2) AND id <> $3 FOR UPDATE', [benefit, UNDER_TEST, except ?? '00000000-0000-0000-0000-000000000000']);
  for (const { id } of rows) {
    const before = await readStats(tx, id);
    await tx.query('UPDATE releases SET baseline_hash = $2, baseline_release_id = $3, updated_at = $4 WHERE id = $1', [id, hash, releaseId, new Date().toISOString()]);
    await tx.query('DELETE FROM release_stats WHERE release_id = $1', [id]);
    await tx.query('INSERT INTO release_stats (release_id) VALUES ($1)', [id]);
    await appendAuditEvent(tx, { actor, action: 'release.rebased', subject: id, reason: `the active version changed (${why}): comparisons start again against it`, evidence: { baseline: hash, setAside: before } });
  }
}

/** Who the audit log names for what the service does on its own. */
export const SERVICE_ACTOR = 'entitle';

/**
 * The automatic rollback: judges a release under test on the comparisons every instance has
 * stored and, if its gates fail, rolls it back in the same transaction, with the gate report,
 * the counts and the sample cases as evidence. Any instance may call it at any time: the row
 * lock makes the verdict and the rollback one step, and a release already rolled back is left.
 */
export async function rollbackIfFailing(db: Database, id: string, gates: GateSettings): Promise<{ rolledBack: Release | undefined; report: GateReport; stats: ReleaseStats }> {
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
    const { rows } = await tx.query<{ id: number; kind: string }>('SELECT id, kind FROM release_samples WHERE release_id = $1 ORDER BY id LIMIT 20', [id]);
    await rollBack(tx, release, SERVICE_ACTOR, `automatic rollback: ${report.reasons.join('; ')}`, { automatic: true, gates: report, stats, samples: rows.map((r) => ({ id: Number(r.id), kind: r.kind })), firstUnexpectedAt: stats.firstUnexpectedAt });
    rolledBack = true;
  });
  return { rolledBack: rolledBack ? await getRelease(db, id) : undefined, report, stats };
}

/** Comparison counts and sample cases from one instance, added to the releases' totals. */
export async function addStats(db: Database, deltas: readonly Tally[]): Promise<void> {
  if (deltas.length === 0) return;
  await db.transaction(async (tx) => {
    for (const d of deltas) {
      const c = d.counts;
      await tx.query(
        `UPDATE release_stats SET identical = identical + $2, expected = expected + $3, unexpected = unexpected + $4,
           candidate_error = candidate_error + $5, active_error = active_error + $6, both_error = both_error + $7,
           aa_identical = aa_identical + $8, aa_different = aa_different + $9,
           active_micros = active_micros + $10, candidate_micros = candidate_micros + $11, timed = timed + $12,
           first_unexpected_at = LEAST(first_unexpected_at, $13), updated_at = $14
         WHERE release_id = $1`,
        [d.releaseId, c.identical, c.expected, c.unexpected, c.candidate_error, c.active_error, c.both_error, d.aaIdentical, d.aaDifferent, Math.round(d.activeMicros), Math.round(d.candidateMicros), d.timed, d.firstUnexpectedAt, new Date().toISOString()],
      );
      for (const s of d.samples) {
        await tx.query('INSERT INTO release_samples (release_id, kind, application_id, inputs, comparison, active_trace, candidate_trace, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
          d.releaseId,
          s.kind,
          s.applicationId,
          JSON.stringify(s.inputs),
          JSON.stringify(s.comparison),
          JSON.stringify(s.activeTrace),
          JSON.stringify(s.candidateTrace),
          s.recordedAt,
        ]);
      }
    }
  });
}

export async function rejectRelease(db: Database, id: string, actor: string, reason: string): Promise<Release> {
  return step(db, id, async (tx, release) => {
    checkTransition(release, 'rejected');
    await changed(tx, release, 'rejected', { promote_at: null }, actor, reason, {});
  });
}

/**
 * The rule sets to serve: for each benefit, the version the database says is active. The rule
 * sets on disk seed a benefit served for the first time; after that, a different rule set on disk
 * is reported (`differing`) and not served, because rule changes reach citizens only through a
 * release.
 */
export async function resolveActiveRuleSets(db: Database, onDisk: ReadonlyMap<string, RuleSet>): Promise<{ ruleSets: Map<string, RuleSet>; differing: { benefit: string; onDisk: string; active: string }[] }> {
  await seedActiveVersions(db, [...onDisk.values()].map((r) => r.program));
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

/**
 * Retention for the differing cases kept from shadow and canary: their inputs and traces hold
 * personal data and go when the decisions' inputs go. The comparison itself stays as evidence.
 */
export async function purgeSampleInputs(db: Queryable, before: string): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    `WITH purged AS (UPDATE release_samples SET inputs = NULL, active_trace = NULL, candidate_trace = NULL WHERE recorded_at < $1 AND inputs IS NOT NULL RETURNING 1)
     SELECT count(*)::int AS count FROM purged`,
    [before],
  );
  return Number(rows[0]?.count ?? 0);
}

/** A differing case kept from shadow or canary, as people look at it (traces stay in the table). */
export interface SampleSummary {
  readonly id: number;
  readonly kind: string;
  readonly applicationId: string;
  readonly recordedAt: string;
  readonly comparison: unknown;
}

/** The differing cases kept for a release, unexpected ones first, newest first within a kind. */
export async function releaseSamples(db: Queryable, id: string, limit = 20): Promise<SampleSummary[]> {
  const { rows } = await db.query<{ id: number; kind: string; application_id: string; recorded_at: string; comparison: unknown }>(
    "SELECT id, kind, application_id, recorded_at, comparison FROM release_samples WHERE release_id = $1 ORDER BY kind = 'unexpected' DESC, id DESC LIMIT $2",
    [id, limit],
  );
  return rows.map((r) => ({ id: Number(r.id), kind: r.kind, applicationId: r.application_id, recordedAt: r.recorded_at, comparison: r.comparison }));
}
