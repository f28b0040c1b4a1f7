import { overdue } from '../incidents/index.ts';
import { budget, SLOS } from '../slos/index.ts';
import type { OperationsHistory } from './history.ts';
import type { PrometheusClient } from './status.ts';

const DAY_MS = 24 * 3600 * 1000;
const pct = (x: number | null, digits = 3) => (x === null ? 'no data' : `${(x * 100).toFixed(digits)}%`);

/**
 * The weekly operations report, as Markdown: each journey's result against its objective and the
 * budget the week burned, latency, errors by kind, assessments by outcome, and the releases and
 * rollbacks of the week. Prometheus is read at the week's end, so a report can be made again later.
 */
export async function weeklyReport(
  prometheus: PrometheusClient,
  history: OperationsHistory,
  weekEnding: Date,
): Promise<string> {
  const at = weekEnding.getTime() / 1000;
  const from = new Date(weekEnding.getTime() - 7 * DAY_MS);
  const lines = [
    `# Entitle weekly operations report`,
    '',
    `Week ${from.toISOString().slice(0, 10)} to ${weekEnding.toISOString().slice(0, 10)} (read from Prometheus at ${weekEnding.toISOString()}).`,
    '',
    '## Journeys',
    '',
    '| journey | objective | this week | budget burn this week |',
    '|---|---|---|---|',
  ];
  for (const slo of SLOS) {
    const [bad, total] = await Promise.all([
      prometheus.scalar(slo.bad.replaceAll('$w', '7d'), at),
      prometheus.scalar(slo.total.replaceAll('$w', '7d'), at),
    ]);
    const ratio = total === null || total === 0 ? null : (bad ?? 0) / total;
    lines.push(
      `| ${slo.journey} | ${(slo.objective * 100).toString()}% | ${ratio === null ? 'no events' : `${pct(1 - ratio)} good`} | ${ratio === null ? '-' : `${(ratio / budget(slo)).toFixed(2)}x (1x spends the budget exactly)`} |`,
    );
  }
  const quantile = (q: number) =>
    prometheus.scalar(
      `histogram_quantile(${q}, sum by (le) (rate(entitle_http_request_duration_seconds_bucket{route="/v1/assessments"}[7d])))`,
      at,
    );
  const [p50, p99] = await Promise.all([quantile(0.5), quantile(0.99)]);
  const ms = (s: number | null) => (s === null ? 'no data' : `${Math.round(s * 1000)} ms`);
  lines.push('', '## Latency of assessments', '', `p50 ${ms(p50)}, p99 ${ms(p99)} (objective: 99% within 500 ms).`);

  lines.push('', '## Assessments by outcome', '', '| outcome | count |', '|---|---:|');
  for (const [outcome, count] of await prometheus.vector(
    'sum by (outcome) (increase(entitle_assessments_total[7d]))',
    'outcome',
    at,
  ))
    lines.push(`| ${outcome} | ${Math.round(count).toLocaleString('en-GB')} |`);
  lines.push('', '## Errors by kind', '', '| status | count |', '|---|---:|');
  const errors = await prometheus.vector(
    'sum by (status) (increase(entitle_http_request_duration_seconds_count{status=~"4..|5.."}[7d]))',
    'status',
    at,
  );
  for (const [status, count] of errors) lines.push(`| ${status} | ${Math.round(count).toLocaleString('en-GB')} |`);
  if (errors.length === 0) lines.push('| none | 0 |');

  const events = (await history.auditEventsSince(from.toISOString())).filter(
    (e) => e.at < weekEnding.toISOString() && e.action.startsWith('release.'),
  );
  const count = (action: string) => events.filter((e) => e.action === action).length;
  lines.push(
    '',
    '## Releases and rollbacks',
    '',
    `${count('release.created')} created, ${count('release.active')} made active, ${count('release.rolled_back')} rolled back (${events.filter((e) => e.action === 'release.rolled_back' && e.actor === 'entitle').length} automatically), ${count('release.rejected')} rejected.`,
    '',
  );
  for (const e of events.filter((e) => ['release.active', 'release.rolled_back'].includes(e.action)))
    lines.push(`- ${e.at} ${e.action} ${e.subject} by ${e.actor}: ${e.reason}`);
  lines.push('', '## Incidents', '');
  // Declared this week, or still open or awaiting review from before.
  const incidents = (await history.incidents({})).filter(
    (i) =>
      (i.declaredAt >= from.toISOString() && i.declaredAt < weekEnding.toISOString()) ||
      (i.declaredAt < weekEnding.toISOString() && i.status !== 'reviewed'),
  );
  if (incidents.length === 0) lines.push('None declared, and none open.');
  else {
    lines.push('| incident | priority | title | declared | status | review |', '|---|---|---|---|---|---|');
    for (const i of incidents) {
      const review = i.reviewedAt
        ? 'held'
        : i.reviewDueAt
          ? `due ${i.reviewDueAt.slice(0, 10)}${overdue(i, weekEnding).review ? ' (OVERDUE)' : ''}`
          : 'after resolution';
      lines.push(
        `| ${i.id} | ${i.priority} | ${i.title.replace(/\|/g, '\\|')} | ${i.declaredAt.slice(0, 16).replace('T', ' ')} | ${i.status} | ${review} |`,
      );
    }
  }
  lines.push('');
  return lines.join('\n');
}
