import { appendAuditEvent } from '../audit/index.ts';
import { storedBundle } from '../decisions/index.ts';
import { EntitleError } from '../errors/index.ts';
import { ruleSetFromBundle, type Outcome, type RuleSet } from '../rules/index.ts';
import type { Database } from '../store/index.ts';
import type { Release } from './model.ts';
import { activeVersions, getRelease } from './repository.ts';

/** One application whose decision under a rolled-back release differs from the version now active. */
export interface WorklistEntry {
  readonly applicationId: string;
  /** The latest decision made for the application under the rolled-back release. */
  readonly decisionId: string;
  readonly decidedAt: string;
  readonly assessmentDate: string;
  /** How many decisions the release made for this application. */
  readonly decisions: number;
  readonly entitledThen: boolean;
  readonly awardThenPence: number;
  /** Undefined when the inputs were purged: a caseworker must reassess by hand. */
  readonly entitledNow?: boolean;
  readonly awardNowPence?: number;
  /** Now minus then: positive means the citizen was underpaid. */
  readonly changePence?: number;
  readonly action: 'pay arrears' | 'recover or review overpayment' | 'review entitlement' | 'reassess by hand';
}

export interface Worklist {
  readonly release: { readonly id: string; readonly benefit: string; readonly rulesetHash: string; readonly summary: string };
  /** The version the decisions were re-evaluated with: the one active now. */
  readonly reevaluatedWith: string;
  readonly generatedAt: string;
  readonly decisions: number;
  readonly applications: number;
  readonly unchanged: number;
  readonly underpaid: number;
  readonly overpaid: number;
  readonly totalUnderpaidPence: number;
  readonly totalOverpaidPence: number;
  readonly entries: readonly WorklistEntry[];
}

interface DecisionRow {
  id: string;
  application_id: string;
  assessment_date: string;
  created_at: string;
  inputs: unknown;
  outcome: Outcome;
}

const pence = (outcome: Outcome) => Math.round(outcome.amount * 100);

function actionFor(entitledThen: boolean, entitledNow: boolean, change: number): WorklistEntry['action'] {
  if (entitledThen !== entitledNow) return 'review entitlement';
  return change > 0 ? 'pay arrears' : 'recover or review overpayment';
}

/**
 * The remediation worklist for a rolled-back release: every application it decided, re-evaluated
 * with the same inputs under the version now active, and those whose outcome changes, with by how
 * much (integer pence). The listing itself is recorded in the audit chain, with counts only.
 */
export async function affectedApplications(db: Database, releaseId: string, actor: string): Promise<Worklist> {
  const release = await getRelease(db, releaseId);
  if (release.state !== 'rolled-back') {
    throw new EntitleError('ENTITLE_RELEASE_TRANSITION_INVALID', `release ${release.id} is ${release.state}, not rolled back`, [
      { field: 'release', message: 'the worklist lists decisions to correct after a rollback: roll the release back first, or give the id of a rolled-back release' },
    ]);
  }
  const active = (await activeVersions(db)).get(release.benefit);
  if (!active) throw new Error(`no version of ${release.benefit} is active`);
  const bundle = await storedBundle(db, active.hash);
  if (!bundle) throw new Error(`the active rule-set version ${active.hash} is not stored`);
  const now = ruleSetFromBundle(bundle, `stored rule set ${active.hash}`);

  const latest = new Map<string, { row: DecisionRow; count: number }>();
  let decisions = 0;
  // Keyset pages in decision order (UUIDv7 ids follow time), so memory stays bounded by the
  // number of applications, not of decisions.
  for (let after = '00000000-0000-0000-0000-000000000000'; ; ) {
    const { rows } = await db.query<DecisionRow>(
      'SELECT id, application_id, assessment_date, created_at, inputs, outcome FROM decisions WHERE release_id = $1 AND ruleset_hash = $2 AND id > $3 ORDER BY id LIMIT 5000',
      [release.id, release.rulesetHash, after],
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      decisions += 1;
      latest.set(row.application_id, { row, count: (latest.get(row.application_id)?.count ?? 0) + 1 });
    }
    after = rows.at(-1)!.id;
  }

  const entries: WorklistEntry[] = [];
  let unchanged = 0;
  for (const [applicationId, { row, count }] of latest) {
    const entry = reevaluate(now, applicationId, row, count);
    if (entry) entries.push(entry);
    else unchanged += 1;
  }
  entries.sort((a, b) => (a.decidedAt < b.decidedAt ? -1 : a.decidedAt > b.decidedAt ? 1 : a.applicationId.localeCompare(b.applicationId)));
  const changes = entries.map((e) => e.changePence ?? 0);
  const worklist: Worklist = {
    release: { id: release.id, benefit: release.benefit, rulesetHash: release.rulesetHash, summary: release.summary },
    reevaluatedWith: active.hash,
    generatedAt: new Date().toISOString(),
    decisions,
    applications: latest.size,
    unchanged,
    underpaid: changes.filter((c) => c > 0).length,
    overpaid: changes.filter((c) => c < 0).length,
    totalUnderpaidPence: changes.filter((c) => c > 0).reduce((a, b) => a + b, 0),
    totalOverpaidPence: -changes.filter((c) => c < 0).reduce((a, b) => a + b, 0),
    entries,
  };
  await recordListing(db, release, worklist, actor);
  return worklist;
}

function reevaluate(now: RuleSet, applicationId: string, row: DecisionRow, count: number): WorklistEntry | undefined {
  const base = { applicationId, decisionId: row.id, decidedAt: row.created_at, assessmentDate: row.assessment_date, decisions: count, entitledThen: row.outcome.entitled, awardThenPence: pence(row.outcome) };
  if (row.inputs === null) return { ...base, action: 'reassess by hand' };
  let outcome: Outcome;
  try {
    outcome = now.evaluate(row.inputs).outcome;
  } catch {
    // The version now active cannot assess these inputs (a rate it leaves unconfirmed, say).
    return { ...base, action: 'reassess by hand' };
  }
  const change = pence(outcome) - base.awardThenPence;
  if (change === 0 && outcome.entitled === base.entitledThen) return undefined;
  return { ...base, entitledNow: outcome.entitled, awardNowPence: pence(outcome), changePence: change, action: actionFor(base.entitledThen, outcome.entitled, change) };
}

async function recordListing(db: Database, release: Release, worklist: Worklist, actor: string): Promise<void> {
  await db.transaction((tx) =>
    appendAuditEvent(tx, {
      actor,
      action: 'release.remediation_listed',
      subject: release.id,
      reason: `${worklist.entries.length} of ${worklist.applications} applications decided by the release need correcting`,
      evidence: {
        decisions: worklist.decisions,
        applications: worklist.applications,
        underpaid: worklist.underpaid,
        overpaid: worklist.overpaid,
        totalUnderpaidPence: worklist.totalUnderpaidPence,
        totalOverpaidPence: worklist.totalOverpaidPence,
        reevaluatedWith: worklist.reevaluatedWith,
      },
    }),
  );
}

/** Pence as pounds for people and spreadsheets: 12345 is "123.45", -5 is "-0.05". */
export function poundsText(pence: number): string {
  const sign = pence < 0 ? '-' : '';
  const abs = Math.abs(pence);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const CSV_COLUMNS = ['applicationId', 'decisionId', 'decidedAt', 'assessmentDate', 'decisions', 'entitledThen', 'awardThen', 'entitledNow', 'awardNow', 'change', 'action'] as const;

/** The worklist as CSV (RFC 4180), one application a row, amounts in pounds with two decimals. */
export function worklistCsv(worklist: Worklist): string {
  const quote = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const rows = worklist.entries.map((e) =>
    [
      e.applicationId,
      e.decisionId,
      e.decidedAt,
      e.assessmentDate,
      String(e.decisions),
      String(e.entitledThen),
      poundsText(e.awardThenPence),
      e.entitledNow === undefined ? '' : String(e.entitledNow),
      e.awardNowPence === undefined ? '' : poundsText(e.awardNowPence),
      e.changePence === undefined ? '' : poundsText(e.changePence),
      e.action,
    ]
      .map(quote)
      .join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
}
