import { appendAuditEvent } from '../audit/index.ts';
import { awardPence } from '../comparison/index.ts';
import { storedBundle } from '../decisions/index.ts';
import { EntitleError } from '../errors/index.ts';
import { activeVersions, getRelease, type Release } from '../releases/index.ts';
import { poundsText, ruleSetFromBundle, type Outcome, type RuleSet, type RuleSetBundle } from '../rules/index.ts';
import { revisedProvisional, withRevisedValues } from './provisional.ts';
import type { Database } from '../store/index.ts';

/** One decision made under a rolled-back release that the version it returned to makes differently. */
export interface WorklistEntry {
  readonly applicationId: string;
  readonly decisionId: string;
  readonly decidedAt: string;
  /** Each assessment period is its own decision and its own correction. */
  readonly assessmentDate: string;
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
  readonly release: {
    readonly id: string;
    readonly benefit: string;
    readonly rulesetHash: string;
    readonly summary: string;
  };
  /**
   * rollback: the decisions a rolled-back release made, against the version it returned to.
   * provisional: the decisions the version a release replaced made on a provisional rate, against
   * the release (one that confirms a rate, say): those the confirmed figures change.
   */
  readonly kind: 'rollback' | 'provisional';
  /** The version the decisions were re-evaluated with. */
  readonly reevaluatedWith: string;
  readonly generatedAt: string;
  readonly decisions: number;
  readonly applications: number;
  /** Decisions the version returned to makes the same. */
  readonly unchanged: number;
  /** Entries by action. */
  readonly underpaid: number;
  readonly overpaid: number;
  readonly entitlementChanged: number;
  readonly byHand: number;
  readonly totalUnderpaidPence: number;
  readonly totalOverpaidPence: number;
  readonly entries: readonly WorklistEntry[];
}

interface DecisionRow {
  id: string;
  ruleset_hash: string;
  application_id: string;
  assessment_date: string;
  created_at: string;
  inputs: unknown;
  outcome: Outcome;
}

function actionFor(entitledThen: boolean, entitledNow: boolean, change: number): WorklistEntry['action'] {
  if (entitledThen !== entitledNow) return 'review entitlement';
  return change > 0 ? 'pay arrears' : 'recover or review overpayment';
}

/**
 * The remediation worklist. For a rolled-back release: every decision it made, re-evaluated with
 * the same inputs under the version the rollback returned to. For a promoted release: every
 * decision made on a provisional value it revises (confirms, or corrects), by any version,
 * re-evaluated with the revised values. Either way, those whose outcome changes, with by how much
 * (integer pence). The listing itself is recorded in the audit chain, with counts only.
 */
export async function affectedApplications(db: Database, releaseId: string, actor: string): Promise<Worklist> {
  const release = await getRelease(db, releaseId);
  const confirming = (release.state === 'active' || release.state === 'superseded') && release.baselineHash !== null;
  if (release.state !== 'rolled-back' && !confirming) {
    throw new EntitleError(
      'ENTITLE_RELEASE_TRANSITION_INVALID',
      `release ${release.id} is ${release.state}, neither rolled back nor promoted`,
      [
        {
          field: 'release',
          message:
            'the worklist lists decisions to correct after a rollback, or after a promotion the decisions made on provisional rates before it: give the id of a rolled-back or promoted release',
        },
      ],
    );
  }
  const entries: WorklistEntry[] = [];
  const applications = new Set<string>();
  let decisions = 0;
  const note = (now: RuleSet, row: DecisionRow) => {
    decisions += 1;
    applications.add(row.application_id);
    const entry = reevaluate(now, row);
    if (entry) entries.push(entry);
  };
  let target: string;
  if (confirming) {
    // After a promotion: every decision of the benefit that used a provisional value the release
    // revises, re-evaluated with its own version and only those values replaced, so another
    // release's legitimate changes never show as corrections.
    target = release.rulesetHash;
    const revised = revisedProvisional(await bundleOf(db, release.baselineHash), await bundleOf(db, target));
    const corrected = new Map<string, RuleSet>();
    await eachPage(
      db,
      "SELECT id, ruleset_hash, application_id, assessment_date, created_at, inputs, outcome FROM decisions WHERE benefit = $1 AND outcome->>'provisional' = 'true' AND id > $2 ORDER BY id LIMIT 2000",
      [release.benefit],
      async (row) => {
        if (!(row.outcome.provisionalParameters ?? []).some((name) => revised.has(name))) return;
        let now = corrected.get(row.ruleset_hash);
        if (!now) {
          const own = withRevisedValues(await bundleOf(db, row.ruleset_hash), revised);
          now = ruleSetFromBundle(own, `stored rule set ${row.ruleset_hash} with the values ${release.id} revises`);
          corrected.set(row.ruleset_hash, now);
        }
        note(now, row);
      },
    );
  } else {
    // After a rollback, the version it returned to (the one the release was compared with): a
    // release promoted since must not show its own, legitimate changes as corrections.
    const returnedTo = release.baselineHash ?? (await activeVersions(db)).get(release.benefit)?.hash;
    if (!returnedTo) throw new Error(`no version of ${release.benefit} to re-evaluate with`);
    target = returnedTo;
    const now = ruleSetFromBundle(await bundleOf(db, target), `stored rule set ${target}`);
    await eachPage(
      db,
      'SELECT id, ruleset_hash, application_id, assessment_date, created_at, inputs, outcome FROM decisions WHERE release_id = $1 AND ruleset_hash = $2 AND id > $3 ORDER BY id LIMIT 2000',
      [release.id, release.rulesetHash],
      (row) => {
        note(now, row);
        return Promise.resolve();
      },
    );
  }
  const byAction = (action: WorklistEntry['action']) => entries.filter((e) => e.action === action);
  const sum = (list: readonly WorklistEntry[]) => list.reduce((total, e) => total + (e.changePence ?? 0), 0);
  const changes = entries.filter((e) => e.changePence !== undefined);
  const worklist: Worklist = {
    release: { id: release.id, benefit: release.benefit, rulesetHash: release.rulesetHash, summary: release.summary },
    kind: confirming ? 'provisional' : 'rollback',
    reevaluatedWith: target,
    generatedAt: new Date().toISOString(),
    decisions,
    applications: applications.size,
    unchanged: decisions - entries.length,
    underpaid: byAction('pay arrears').length,
    overpaid: byAction('recover or review overpayment').length,
    entitlementChanged: byAction('review entitlement').length,
    byHand: byAction('reassess by hand').length,
    totalUnderpaidPence: sum(changes.filter((e) => e.changePence! > 0)),
    totalOverpaidPence: -sum(changes.filter((e) => e.changePence! < 0)),
    entries,
  };
  await recordListing(db, release, worklist, actor);
  return worklist;
}

async function bundleOf(db: Database, hash: string): Promise<RuleSetBundle> {
  const bundle = await storedBundle(db, hash);
  if (!bundle) throw new Error(`the rule-set version ${hash} is not stored`);
  return bundle as RuleSetBundle;
}

/**
 * Keyset pages in decision order (UUIDv7 ids follow time): only the decisions to correct are kept,
 * so memory grows with the worklist, not with everything decided.
 */
async function eachPage(
  db: Database,
  sql: string,
  values: readonly unknown[],
  each: (row: DecisionRow) => Promise<void>,
): Promise<void> {
  for (let after = '00000000-0000-0000-0000-000000000000'; ;) {
    const { rows } = await db.query<DecisionRow>(sql, [...values, after]);
    if (rows.length === 0) return;
    for (const row of rows) await each(row);
    after = rows.at(-1)!.id;
    // Let citizens' requests in between pages when this runs inside the service.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function reevaluate(now: RuleSet, row: DecisionRow): WorklistEntry | undefined {
  const base = {
    applicationId: row.application_id,
    decisionId: row.id,
    decidedAt: row.created_at,
    assessmentDate: row.assessment_date,
    entitledThen: row.outcome.entitled,
    awardThenPence: awardPence(row.outcome),
  };
  if (row.inputs === null) return { ...base, action: 'reassess by hand' };
  let outcome: Outcome;
  try {
    outcome = now.evaluate(row.inputs).outcome;
  } catch {
    // The version now active cannot assess these inputs (a rate it leaves unconfirmed, say).
    return { ...base, action: 'reassess by hand' };
  }
  const change = awardPence(outcome) - base.awardThenPence;
  if (change === 0 && outcome.entitled === base.entitledThen) return undefined;
  return {
    ...base,
    entitledNow: outcome.entitled,
    awardNowPence: awardPence(outcome),
    changePence: change,
    action: actionFor(base.entitledThen, outcome.entitled, change),
  };
}

async function recordListing(db: Database, release: Release, worklist: Worklist, actor: string): Promise<void> {
  await db.transaction((tx) =>
    appendAuditEvent(tx, {
      actor,
      action: 'release.remediation_listed',
      subject: release.id,
      reason:
        worklist.kind === 'rollback'
          ? `${worklist.entries.length} of ${worklist.decisions} decisions made by the release need correcting`
          : `${worklist.entries.length} of ${worklist.decisions} decisions made on provisional rates before the release need correcting`,
      evidence: {
        decisions: worklist.decisions,
        applications: worklist.applications,
        underpaid: worklist.underpaid,
        overpaid: worklist.overpaid,
        entitlementChanged: worklist.entitlementChanged,
        byHand: worklist.byHand,
        totalUnderpaidPence: worklist.totalUnderpaidPence,
        totalOverpaidPence: worklist.totalOverpaidPence,
        reevaluatedWith: worklist.reevaluatedWith,
        kind: worklist.kind,
      },
    }),
  );
}

const CSV_COLUMNS = [
  'applicationId',
  'decisionId',
  'decidedAt',
  'assessmentDate',
  'entitledThen',
  'awardThen',
  'entitledNow',
  'awardNow',
  'change',
  'action',
] as const;

/** The worklist as CSV (RFC 4180), one decision a row, amounts in pounds with two decimals. */
export function worklistCsv(worklist: Worklist): string {
  const quote = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  const rows = worklist.entries.map((e) =>
    [
      e.applicationId,
      e.decisionId,
      e.decidedAt,
      e.assessmentDate,
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
