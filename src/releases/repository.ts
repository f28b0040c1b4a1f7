/**
 * Releases as rows: reading them, and the steps that record one (create, shadow, canary, approve,
 * reject), each in one transaction with its audit event and a NOTIFY on the release channel.
 * Promotion and rollback are in promotion.ts; the state machine they follow is in model.ts.
 */
import { v7 as uuidv7, validate as isUuid } from 'uuid';
import { appendAuditEvent } from '../audit/index.ts';
import type { Expectations } from '../comparison/index.ts';
import { storeBundle } from '../decisions/index.ts';
import { EntitleError } from '../errors/index.ts';
import { samePerson } from '../keys/index.ts';
import type { RuleProgram } from '../rules/index.ts';
import type { Database, Queryable } from '../store/index.ts';
import { formatLondon } from '../uk-time/index.ts';
import { activeVersions } from './active-versions.ts';
import { checkTransition, percentText, UNDER_TEST, type Approval, type Release, type ReleaseState } from './model.ts';

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
  shadow_started_at: string | null;
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
    shadowStartedAt: row.shadow_started_at ?? null,
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
  const notFound = new EntitleError('ENTITLE_RELEASE_NOT_FOUND', 'there is no release with that id', [
    { field: 'release', message: 'give a release id as "entitle release list" shows it' },
  ]);
  if (!isUuid(id)) throw notFound;
  const { rows } = await db.query<ReleaseRow>(`SELECT * FROM releases WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [
    id,
  ]);
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

/** Moves a release to `to` (or changes it in place), with its audit event and a NOTIFY. */
export async function changed(
  tx: Queryable,
  release: Release,
  to: ReleaseState,
  fields: Record<string, unknown>,
  actor: string,
  reason: string,
  evidence: Record<string, unknown>,
): Promise<void> {
  const sets = Object.keys(fields).map((column, i) => `, ${column} = $${i + 4}`);
  await tx.query(`UPDATE releases SET state = $2, updated_at = $3${sets.join('')} WHERE id = $1`, [
    release.id,
    to,
    new Date().toISOString(),
    ...Object.values(fields),
  ]);
  await appendAuditEvent(tx, {
    actor,
    action: `release.${to === release.state ? `${to}_changed` : to.replace('-', '_')}`,
    subject: release.id,
    reason,
    evidence: { from: release.state, to, benefit: release.benefit, ruleset: release.rulesetHash, ...evidence },
  });
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
      [
        id,
        program.benefit,
        program.hash,
        program.id,
        input.author,
        input.summary,
        input.effectiveAt,
        JSON.stringify(input.expectations),
        now,
      ],
    );
    const draft = await getRelease(tx, id, true);
    await appendAuditEvent(tx, {
      actor: input.author,
      action: 'release.created',
      subject: id,
      reason: input.summary,
      evidence: {
        benefit: program.benefit,
        ruleset: { id: program.id, hash: program.hash },
        effectiveAt: input.effectiveAt,
        expectations: input.expectations,
      },
    });
    const { total, failed } = input.golden;
    if (total > 0 && failed.length === 0) {
      await changed(tx, draft, 'validated', {}, 'entitle', `compiled, and all ${total} golden tests pass`, {
        goldenTests: total,
      });
    } else {
      const reason =
        total === 0 ? 'the rule set has no golden tests' : `${failed.length} of ${total} golden tests fail`;
      await changed(tx, draft, 'rejected', {}, 'entitle', reason, { goldenTests: total, failed: failed.slice(0, 20) });
    }
  });
  return getRelease(db, id);
}

/** Runs one step on a release locked for the transaction, and reads it back once committed. */
export async function step<T>(
  db: Database,
  id: string,
  work: (tx: Queryable, release: Release) => Promise<T>,
): Promise<Release> {
  await db.transaction(async (tx) => work(tx, await getRelease(tx, id, true)));
  return getRelease(db, id);
}

/** Starts (or changes) shadow evaluation: a share of live assessments also goes to the candidate. */
export async function startShadow(
  db: Database,
  id: string,
  options: { sharePercent: number; preview: boolean },
  actor: string,
  reason: string,
): Promise<Release> {
  checkShare(options.sharePercent, 'percent', 0);
  return step(db, id, async (tx, release) => {
    checkTransition(release, 'shadow');
    const { rows } = await tx.query<{ id: string; state: string }>(
      'SELECT id, state FROM releases WHERE benefit = $1 AND state = ANY($2) AND id <> $3',
      [release.benefit, UNDER_TEST, release.id],
    );
    if (rows[0]) {
      throw new EntitleError(
        'ENTITLE_RELEASE_TRANSITION_INVALID',
        `release ${rows[0].id} for ${release.benefit} is already in ${rows[0].state}`,
        [
          {
            field: 'release',
            message: 'one release per benefit is tested at a time: promote, roll back or reject that one first',
          },
        ],
      );
    }
    const active = (await activeVersions(tx)).get(release.benefit);
    if (!active)
      throw new EntitleError('ENTITLE_RELEASE_TRANSITION_INVALID', `no version of ${release.benefit} is active yet`, [
        {
          field: 'release',
          message: 'start the service once with the current rules, so there is an active version to compare with',
        },
      ]);
    await tx.query('INSERT INTO release_stats (release_id) VALUES ($1) ON CONFLICT (release_id) DO NOTHING', [
      release.id,
    ]);
    const sharePpm = Math.round(options.sharePercent * 10_000);
    if (sharePpm < 1) throw shareTooSmall('percent', '0.0001');
    try {
      await changed(
        tx,
        release,
        'shadow',
        {
          shadow_share_ppm: sharePpm,
          preview: options.preview,
          baseline_hash: active.hash,
          baseline_release_id: active.releaseId,
          // The shadow window runs from the first time it entered shadow; a new share keeps it.
          shadow_started_at: release.shadowStartedAt ?? new Date().toISOString(),
        },
        actor,
        reason,
        {
          sharePercent: options.sharePercent,
          preview: options.preview ? formatLondon(release.effectiveAt) : false,
          baseline: active.hash,
        },
      );
    } catch (error) {
      // Another release of this benefit started shadow at the same moment (releases_one_under_test).
      if ((error as { code?: string }).code === '23505') {
        throw new EntitleError(
          'ENTITLE_RELEASE_TRANSITION_INVALID',
          `another release for ${release.benefit} started shadow at the same time`,
          [
            {
              field: 'release',
              message: 'one release per benefit is tested at a time: promote, roll back or reject that one first',
            },
          ],
        );
      }
      throw error;
    }
  });
}

function shareTooSmall(field: string, smallest: string): EntitleError {
  return new EntitleError('ENTITLE_INPUT_INVALID', `${field} is too small to select any application`, [
    { field, message: `enter ${smallest} or more` },
  ]);
}

function checkShare(percent: number, field: string, min: number): void {
  if (!Number.isFinite(percent) || percent <= min || percent > 100) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${field} must be more than ${min} and at most 100`, [
      { field, message: `enter a percentage above ${min} and up to 100, such as 5` },
    ]);
  }
}

/** Starts or widens the canary: that share of applications is decided by the candidate. */
export async function setCanary(
  db: Database,
  id: string,
  percent: number,
  actor: string,
  reason: string,
): Promise<Release> {
  checkShare(percent, 'percent', 0);
  const basisPoints = Math.round(percent * 100);
  if (basisPoints < 1) throw shareTooSmall('percent', '0.01');
  return step(db, id, async (tx, release) => {
    checkTransition(release, 'canary');
    if (basisPoints < release.canaryBasisPoints) {
      throw new EntitleError(
        'ENTITLE_RELEASE_TRANSITION_INVALID',
        `the canary is at ${percentText(release.canaryBasisPoints)} and only grows`,
        [
          {
            field: 'percent',
            message:
              'applications already decided by the candidate stay with it: give a larger percentage, or roll the release back',
          },
        ],
      );
    }
    await changed(tx, release, 'canary', { canary_basis_points: basisPoints }, actor, reason, { percent });
  });
}

/** Records an approval. No one may approve their own release, and each person approves once. */
export async function approveRelease(
  db: Database,
  id: string,
  kind: Approval['kind'],
  approver: string,
  reason: string,
): Promise<Release> {
  return step(db, id, async (tx, release) => {
    // People, not spellings: "Alice Smith" and "alice  smith" are one person (keys/people.ts).
    if (samePerson(approver, release.author)) {
      throw new EntitleError(
        'ENTITLE_RELEASE_APPROVAL_REQUIRED',
        `${approver} wrote this release and cannot approve it`,
        [
          {
            field: 'approver',
            message: 'a second person must approve with their own key: any key of the author is the author',
          },
        ],
      );
    }
    if (['superseded', 'rejected', 'rolled-back', 'active'].includes(release.state)) checkTransition(release, 'active');
    if (release.approvals.some((a) => a.kind === kind && samePerson(a.approver, approver))) {
      throw new EntitleError('ENTITLE_RELEASE_APPROVAL_REQUIRED', `${approver} has already approved this release`, [
        { field: 'approver', message: 'each person approves once, whichever key they use; ask another person' },
      ]);
    }
    await tx.query(
      'INSERT INTO release_approvals (release_id, kind, approver, reason, approved_at) VALUES ($1, $2, $3, $4, $5)',
      [id, kind, approver, reason, new Date().toISOString()],
    );
    await appendAuditEvent(tx, {
      actor: approver,
      action: kind === 'promotion' ? 'release.approved' : 'release.emergency_approved',
      subject: id,
      reason,
      evidence: { state: release.state },
    });
    await tx.query('SELECT pg_notify($1, $2)', [RELEASE_CHANNEL, id]);
  });
}

export async function rejectRelease(db: Database, id: string, actor: string, reason: string): Promise<Release> {
  return step(db, id, async (tx, release) => {
    checkTransition(release, 'rejected');
    await changed(tx, release, 'rejected', { promote_at: null }, actor, reason, {});
  });
}

/** Who the audit log names for what the service does on its own. */
export const SERVICE_ACTOR = 'entitle';
