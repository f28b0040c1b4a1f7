import { appendAuditEvent } from '../audit/index.ts';
import { ENGINE } from '../rules/index.ts';
import { fromStore, type Database } from '../store/index.ts';
import { londonDate } from '../uk-time/index.ts';
import { replayRecord } from './compare.ts';
import type { ReplayRuleSets } from './rule-sets.ts';

/** One stratum of recorded decisions: a benefit, the rule-set version that decided, the outcome. */
export interface ReplayStratum {
  readonly benefit: string;
  readonly ruleset: string;
  readonly entitled: boolean;
  /** Decisions in the window with their inputs held. */
  readonly decisions: number;
  readonly sampled: number;
}

/** A recorded decision the running engine makes differently: where, never the inputs. */
export interface ReplayMismatch {
  readonly decisionId: string;
  readonly benefit: string;
  readonly ruleset: string;
  /** The paths that differ, such as outcome.amount or explanation.3; or the error it gave now. */
  readonly paths: readonly string[];
}

export interface ReplaySampleReport {
  readonly engine: { readonly name: string; readonly version: string };
  /** The first day whose decisions were sampled (UTC date of recording). */
  readonly since: string;
  readonly strata: readonly ReplayStratum[];
  readonly sampled: number;
  readonly matched: number;
  readonly mismatched: readonly ReplayMismatch[];
}

export interface ReplaySampleOptions {
  /** About how many decisions to replay, spread over every stratum (at least one each). */
  readonly sample: number;
  /** YYYY-MM-DD: only decisions recorded on or after it. */
  readonly since: string;
  /** Who asked: recorded in the audit chain with the counts. */
  readonly actor: string;
}

/** The default window: decisions recorded in the last 30 days (from the UK date that long ago). */
export function defaultReplaySince(now = new Date()): string {
  return londonDate(new Date(now.getTime() - 30 * 86_400_000).toISOString());
}

interface Row {
  id: string;
  benefit: string;
  application_id: string;
  assessment_date: string;
  ruleset_id: string;
  ruleset_hash: string;
  inputs: unknown;
  outcome: unknown;
  explanation: string[];
}

/**
 * The sample shared out over the strata: at least one each, then equal parts, and what a small
 * stratum cannot use goes to the others, so a sample as large as the record takes all of it.
 */
export function shareOut(sizes: readonly number[], sample: number): number[] {
  const quotas = sizes.map((n) => Math.min(n, 1));
  let left = sample - quotas.reduce((a, b) => a + b, 0);
  for (;;) {
    const open = sizes.map((n, i) => i).filter((i) => quotas[i]! < sizes[i]!);
    if (left <= 0 || open.length === 0) return quotas;
    const each = Math.max(1, Math.floor(left / open.length));
    for (const i of open) {
      if (left <= 0) break;
      const take = Math.min(each, sizes[i]! - quotas[i]!, left);
      quotas[i] = quotas[i]! + take;
      left -= take;
    }
  }
}

/**
 * Replays a stratified sample of recorded decisions with the running build: every benefit, every
 * rule-set version and both outcomes (entitled or not) in the window get their share, at least
 * one each, picked by a stable hash of the decision id so a second run checks the same ones.
 * A decision made differently now (its outcome or its explanation) is a mismatch: the same rules
 * giving another answer means the engine changed. The check is recorded in the audit chain.
 */
export async function replaySample(
  db: Database,
  ruleSets: ReplayRuleSets,
  options: ReplaySampleOptions,
  progress: (p: { done: number; total: number }) => void = () => undefined,
): Promise<ReplaySampleReport> {
  const since = `${options.since}T00:00:00.000Z`;
  const { rows: counted } = await fromStore(() =>
    db.query<{ benefit: string; ruleset_hash: string; entitled: string | null; n: string }>(
      `SELECT benefit, ruleset_hash, outcome->>'entitled' AS entitled, count(*) AS n FROM decisions
       WHERE inputs IS NOT NULL AND created_at >= $1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      [since],
    ),
  );
  const quotas = shareOut(
    counted.map((s) => Number(s.n)),
    options.sample,
  );
  const picked: Row[] = [];
  const strata: ReplayStratum[] = [];
  for (const [i, s] of counted.entries()) {
    const quota = quotas[i]!;
    const { rows } = await fromStore(() =>
      db.query<Row>(
        `SELECT id, benefit, application_id, assessment_date, ruleset_id, ruleset_hash, inputs, outcome, explanation
         FROM decisions WHERE inputs IS NOT NULL AND created_at >= $1 AND benefit = $2 AND ruleset_hash = $3
           AND outcome->>'entitled' IS NOT DISTINCT FROM $4
         ORDER BY md5(id::text) LIMIT $5`,
        [since, s.benefit, s.ruleset_hash, s.entitled, quota],
      ),
    );
    picked.push(...rows);
    strata.push({
      benefit: s.benefit,
      ruleset: s.ruleset_hash,
      entitled: s.entitled === 'true',
      decisions: Number(s.n),
      sampled: rows.length,
    });
  }
  const mismatched: ReplayMismatch[] = [];
  for (const [i, row] of picked.entries()) {
    const ruleSet = await ruleSets.byHash(row.ruleset_hash);
    const { replayed, differences } = replayRecord(row, ruleSet);
    if (differences.length > 0)
      mismatched.push({
        decisionId: row.id,
        benefit: row.benefit,
        ruleset: row.ruleset_hash,
        paths: 'error' in replayed ? [`error ${replayed.error}`] : differences.map((d) => d.path),
      });
    progress({ done: i + 1, total: picked.length });
    // Let citizens' requests in between decisions when this runs inside the service.
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
  const report: ReplaySampleReport = {
    engine: { name: ENGINE.name, version: ENGINE.version },
    since: options.since,
    strata,
    sampled: picked.length,
    matched: picked.length - mismatched.length,
    mismatched,
  };
  await fromStore(() =>
    db.transaction((tx) =>
      appendAuditEvent(tx, {
        actor: options.actor,
        action: 'decisions.replay_checked',
        subject: `${ENGINE.name} ${ENGINE.version}`,
        reason: `${report.sampled} recorded decisions since ${options.since} replayed: ${mismatched.length} made differently`,
        evidence: {
          sampled: report.sampled,
          strata: strata.length,
          mismatched: mismatched.length,
          decisions: mismatched.slice(0, 20).map((m) => m.decisionId),
        },
      }),
    ),
  );
  return report;
}
