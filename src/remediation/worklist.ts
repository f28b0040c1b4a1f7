import { appendAuditEvent } from '../audit/index.ts';
import { awardPence } from '../comparison/index.ts';
import { storedBundle } from '../decisions/index.ts';
import { EntitleError } from '../errors/index.ts';
import { activeVersions, getRelease, type Release } from '../releases/index.ts';
import { poundsText, ruleSetFromBundle, type Outcome, type RuleSet } from '../rules/index.ts';
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
  /** The version the decisions were re-evaluated with: the one the rollback returned to. */
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
 * The remediation worklist for a rolled-back release: every decision it made, re-evaluated with
 * the same inputs under the version the rollback returned to, and those whose outcome changes,
 * with by how much (integer pence). The listing itself is recorded in the audit chain, with
 * counts only.
 */
export async function affectedApplications(db: Database, releaseId: string, actor: string): Promise<Worklist> {
  const release = await getRelease(db, releaseId);
  if (release.state !== 'rolled-back') {
    throw new EntitleError(
      'ENTITLE_RELEASE_TRANSITION_INVALID',
      `release ${release.id} is ${release.state}, not rolled back`,
      [
        {
          field: 'release',
          message:
            'the worklist lists decisions to correct after a rollback: roll the release back first, or give the id of a rolled-back release',
        },
      ],
    );
  }
  // The version the rollback returned to (the one the release was compared with): a release
  // promoted since must not show its own, legitimate changes as corrections.
  const target = release.baselineHash ?? (await activeVersions(db)).get(release.benefit)?.hash;
  if (!target) throw new Error(`no version of ${release.benefit} to re-evaluate with`);
  const bundle = await storedBundle(db, target);
  if (!bundle) throw new Error(`the rule-set version ${target} is not stored`);
  const now = ruleSetFromBundle(bundle, `stored rule set ${target}`);

  const entries: WorklistEntry[] = [];
  const applications = new Set<string>();
  let decisions = 0;
  // Keyset pages in decision order (UUIDv7 ids follow time); only the decisions to correct are
  // kept, so memory grows with the worklist, not with everything the release decided.
  for (let after = '00000000-0000-0000-0000-000000000000'; ;) {
    const { rows } = await db.query<DecisionRow>(
      'SELECT id, application_id, assessment_date, created_at, inputs, outcome FROM decisions WHERE release_id = $1 AND ruleset_hash = $2 AND id > $3 ORDER BY id LIMIT 2000',
      [release.id, release.rulesetHash, after],
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      decisions += 1;
      applications.add(row.application_id);
      const entry = reevaluate(now, row);
      if (entry) entries.push(entry);
    }
    after = rows.at(-1)!.id;
    // Let citizens' requests in between pages when this runs inside the service.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const byAction = (action: WorklistEntry['action']) => entries.filter((e) => e.action === action);
  const sum = (list: readonly WorklistEntry[]) => list.reduce((total, e) => total + (e.changePence ?? 0), 0);
  const changes = entries.filter((e) => e.changePence !== undefined);
  const worklist: Worklist = {
    release: { id: release.id, benefit: release.benefit, rulesetHash: release.rulesetHash, summary: release.summary },
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
      reason: `${worklist.entries.length} of ${worklist.decisions} decisions made by the release need correcting`,
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
