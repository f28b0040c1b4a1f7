/** Releases and backtests as people read them at a terminal: plain lines, amounts in pounds. */
import type { BacktestExample, BacktestResult } from '../../../backtest/index.ts';
import { percentText, TRANSITIONS, type Release, type RuleSetUnits } from '../../../releases/index.ts';
import { formatIsoDate, formatMoney, formatRate } from '../../../rules/index.ts';
import { formatLondon } from '../../../uk-time/index.ts';
import { printJson } from '../../output.ts';
import { count } from '../../progress.ts';

/** What a person needs to see of a release, in plain lines. */
export function describe(release: Release): string {
  const lines = [
    `release ${release.id}`,
    `  benefit      ${release.benefit}`,
    `  rule set     ${release.rulesetId} ${release.rulesetHash}`,
    `  state        ${release.state}${release.state === 'canary' ? ` (${percentText(release.canaryBasisPoints)} of applications)` : ''}${release.state === 'shadow' ? ` (${release.shadowSharePpm / 10_000}% of assessments compared${release.preview ? ', previewed at the effective date' : ''})` : ''}`,
    `  author       ${release.author}`,
    `  summary      ${release.summary}`,
    `  effective    ${formatLondon(release.effectiveAt)}`,
    `  expects      ${release.expectations.changes.length === 0 ? 'no difference at all' : release.expectations.changes.map((c) => c.variable).join(', ')}`,
  ];
  if (release.baselineHash) lines.push(`  compared to  ${release.baselineHash}`);
  for (const a of release.approvals)
    lines.push(`  ${a.kind === 'promotion' ? 'approved by ' : 'emergency by'} ${a.approver}: ${a.reason}`);
  if (release.promoteAt) lines.push(`  promotes at  ${formatLondon(release.promoteAt)}`);
  const next = TRANSITIONS[release.state];
  lines.push(`  next steps   ${next.length > 0 ? next.join(', ') : 'none: this state is final'}`);
  return `${lines.join('\n')}\n`;
}

/** The first differences of a kept case, such as "earnedIncomeDeduction £100.45 -> £102.28 (undeclared)". */
export function describeSample(units: RuleSetUnits, comparison: unknown): string {
  const c = comparison as {
    differences?: { variable: string; index?: number; active: unknown; candidate: unknown; cause: string }[];
    activeError?: string;
    candidateError?: string;
  };
  if (c.candidateError || c.activeError)
    return `active ${c.activeError ?? 'decided'}, candidate ${c.candidateError ?? 'decided'}`;
  const shown = (c.differences ?? [])
    .slice(0, 2)
    .map(
      (d) =>
        `${d.variable}${d.index === undefined ? '' : `[${d.index}]`} ${valueText(units, d.variable, d.active)} -> ${valueText(units, d.variable, d.candidate)} (${d.cause})`,
    );
  return `${shown.join(', ')}${(c.differences?.length ?? 0) > 2 ? ', ...' : ''}`;
}

export function print(release: Release, options: { readonly json?: boolean | undefined }): void {
  if (options.json) printJson(release);
  else process.stdout.write(describe(release));
}

/** A variable's value as people read it: money in pounds, rates as percentages, dates as dates. */
export function valueText(units: RuleSetUnits, variable: string, value: unknown): string {
  const type = variable === 'outcome.amount' ? 'money' : units.types[variable];
  if (typeof value === 'number' && type === 'money') return formatMoney(value);
  if (typeof value === 'number' && type === 'rate') return formatRate(value);
  if (typeof value === 'number' && type === 'date') return formatIsoDate(value);
  return JSON.stringify(value);
}

function windowText(result: BacktestResult): string {
  const w = result.report.window;
  if (w.last !== undefined) return `the most recent ${count(w.last)} decisions`;
  if (w.from !== undefined && w.to !== undefined)
    return `decisions made from ${formatLondon(w.from)} to before ${formatLondon(w.to)}`;
  return 'every decision';
}

function exampleLine(units: RuleSetUnits, e: BacktestExample): string {
  const awards =
    e.activeError || e.candidateError
      ? `${e.activeError ?? (e.activeAwardPence !== undefined ? formatMoney(e.activeAwardPence) : '')} -> ${e.candidateError ?? (e.candidateAwardPence !== undefined ? formatMoney(e.candidateAwardPence) : '')}`
      : `${formatMoney(e.activeAwardPence!)} -> ${formatMoney(e.candidateAwardPence!)}`;
  const differences = e.differences
    .slice(0, 3)
    .map(
      (d) =>
        `${d.variable}${d.index !== undefined ? `[${d.index}]` : ''} ${valueText(units, d.variable, d.active)} -> ${valueText(units, d.variable, d.candidate)} (${d.cause})`,
    );
  const more = e.differenceCount > differences.length ? `, and ${e.differenceCount - differences.length} more` : '';
  return `      ${e.decisionId}  ${e.applicationId}  ${awards}${differences.length > 0 ? `: ${differences.join(', ')}${more}` : ''}`;
}

/** The report in plain lines, for people. */
export function describeBacktest(release: Pick<Release, 'id'>, units: RuleSetUnits, result: BacktestResult): string {
  const r = result.report;
  const per = units.period === 'week' ? 'a week' : units.period === 'year' ? 'a year' : 'a month';
  const a = r.awards;
  const lines = [
    `backtest of release ${release.id}: ${r.candidate.id} ${r.candidate.hash}`,
    `  decisions    ${count(r.decisions)} of ${r.benefit}: ${windowText(result)}`,
    `  compared     ${count(r.compared)}, each with ${r.baseline === 'recorded' ? 'the version that made it' : r.baseline}${r.skipped > 0 ? `; ${count(r.skipped)} skipped: their inputs were removed under the retention policy` : ''}`,
    `  identical    ${count(r.kinds.identical)}`,
    `  expected     ${count(r.kinds.expected)}`,
    `  unexpected   ${count(r.kinds.unexpected)}`,
    `  errors       candidate only ${count(r.kinds.candidateError)}, active only ${count(r.kinds.activeError)}, both ${count(r.kinds.bothError)}`,
    `  awards       ${count(a.gaining)} gain, ${count(a.losing)} lose, ${count(a.unchanged)} unchanged; total change ${formatMoney(a.totalChangePence)} ${per}`,
    ...(a.gaining + a.losing > 0
      ? [
          `               median change ${formatMoney(a.medianChangePence)}${a.gaining > 0 ? `; median gain ${formatMoney(a.medianGainPence)}` : ''}${a.losing > 0 ? `; median loss ${formatMoney(a.medianLossPence)}` : ''}`,
        ]
      : []),
    `  by size      ${'gain'.padStart(10)} ${'loss'.padStart(10)}`,
    ...a.bands.map((b) => `    ${b.label.padEnd(20)} ${count(b.gaining).padStart(10)} ${count(b.losing).padStart(10)}`),
    `  versions     ${r.versions.map((v) => `${v.hash} (${count(v.decisions)})`).join(', ') || 'none'}`,
  ];
  if (r.variables.length > 0) {
    lines.push('  differ most  variable: decisions (of which unexpected)');
    for (const v of r.variables)
      lines.push(`    ${v.variable.padEnd(32)} ${count(v.decisions).padStart(10)} (${count(v.unexpected)})`);
  }
  const kinds = Object.entries(r.examples).filter(([, list]) => list.length > 0);
  if (kinds.length > 0) {
    lines.push('  examples     decision, application, award before -> after: differences');
    for (const [kind, list] of kinds) {
      lines.push(`    ${kind}`);
      for (const e of list) lines.push(exampleLine(units, e));
    }
  }
  lines.push(
    `  took         ${result.seconds.toFixed(1)} s with ${result.workers} worker${result.workers === 1 ? '' : 's'} (${count(Math.round(r.decisions / Math.max(result.seconds, 0.001)))} decisions/s)`,
  );
  return `${lines.join('\n')}\n`;
}
