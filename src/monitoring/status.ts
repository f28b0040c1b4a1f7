import { EntitleError } from '../errors/index.ts';
import { overdue, priorityTimings } from '../incidents/index.ts';
import { budget, SLOS, type Slo } from '../slos/index.ts';
import type { OperationsHistory } from './history.ts';

/** The on-call summary: one verdict, then each journey, the alerts, and what changed lately. */
export interface StatusReport {
  readonly verdict: 'HEALTHY' | 'DEGRADED' | 'UNHEALTHY';
  readonly source: 'prometheus' | 'service';
  readonly generatedAt: string;
  readonly journeys: readonly JourneyStatus[];
  readonly alerts: readonly FiringAlert[];
  readonly changes: readonly Change[];
  /** Alerts that started within 30 minutes after a change: the first place to look. */
  readonly correlations: readonly { readonly alert: string; readonly startedAt: string; readonly change: Change }[];
  /** Incidents open or awaiting review, with what is overdue. */
  readonly incidents: readonly IncidentLine[];
}

export interface IncidentLine {
  readonly id: string;
  readonly priority: string;
  readonly status: string;
  readonly title: string;
  readonly lead: string | null;
  /** acknowledgement, update or review: what is late. */
  readonly overdue: readonly string[];
}

async function incidentLines(history: OperationsHistory, now: Date): Promise<IncidentLine[]> {
  const timing = await priorityTimings(process.env);
  const incidents = await history.incidents({ unreviewed: true });
  return incidents.map((i) => {
    const late = overdue(i, now, timing(i.priority));
    return {
      id: i.id,
      priority: i.priority,
      status: i.status,
      title: i.title,
      lead: i.roles.find((r) => r.role === 'incident-lead')?.person ?? null,
      overdue: (['acknowledgement', 'update', 'review'] as const).filter((k) => late[k]),
    };
  });
}

export interface JourneyStatus {
  readonly slo: string;
  readonly journey: string;
  readonly objective: string;
  /** Share of the period's error budget left (1 is untouched, below 0 is overspent); null without data. */
  readonly budgetLeft: number | null;
  /** How fast the budget burns over the last hour (1 spends it exactly over the period); null without data. */
  readonly burnRate1h: number | null;
}

export interface FiringAlert {
  readonly alert: string;
  readonly priority: string;
  readonly severity: string;
  readonly tier?: string;
  readonly activeAt: string;
  readonly summary: string;
  readonly runbook: string;
}

export interface Change {
  readonly at: string;
  readonly what: string;
  readonly subject: string;
  readonly actor: string;
}

const WEEK_MS = 7 * 24 * 3600 * 1000;
const CORRELATION_MS = 30 * 60 * 1000;

/**
 * A GET that fails as a clear error naming the setting to check, never as a fault: the address
 * is the operator's to give, and a wrong one is the usual reason.
 */
async function getFrom<T>(url: string, setting: string, what: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    // Say where: a person who set nothing must see the address that was tried, and why it failed.
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new EntitleError(
      'ENTITLE_SOURCE_UNREACHABLE',
      `${what} at ${new URL(url).origin} could not be reached (${cause})`,
      [{ field: setting, message: `set ${setting} to where ${what} runs, or start it there` }],
    );
  }
  if (!response.ok)
    throw new EntitleError(
      'ENTITLE_SOURCE_UNREACHABLE',
      `${what} at ${new URL(url).origin} answered ${response.status}`,
      [{ field: setting, message: `check ${setting} points at ${what}` }],
    );
  return (response.headers.get('content-type') ?? '').includes('json')
    ? ((await response.json()) as T)
    : ((await response.text()) as T);
}

/** Reads Prometheus's HTTP API (instant queries and firing alerts). */
export class PrometheusClient {
  constructor(private readonly url: string) {}

  private query<T>(query: string, at?: number): Promise<T> {
    return getFrom<T>(
      `${this.url}/api/v1/query?query=${encodeURIComponent(query)}${at === undefined ? '' : `&time=${at}`}`,
      'PROMETHEUS_URL',
      'Prometheus',
    );
  }

  async scalar(query: string, at?: number): Promise<number | null> {
    const body = await this.query<{ data: { result: { value: [number, string] }[] } }>(query, at);
    const value = body.data.result[0]?.value[1];
    const n = value === undefined ? NaN : Number(value);
    return Number.isFinite(n) ? n : null;
  }

  /** An instant vector as pairs of one label's value and the sample, largest first. */
  async vector(query: string, label: string, at?: number): Promise<[string, number][]> {
    const body = await this.query<{ data: { result: { metric: Record<string, string>; value: [number, string] }[] } }>(
      query,
      at,
    );
    return body.data.result
      .map((r): [string, number] => [r.metric[label] ?? '', Number(r.value[1])])
      .filter(([, n]) => Number.isFinite(n))
      .sort((a, b) => b[1] - a[1]);
  }

  async alerts(): Promise<FiringAlert[]> {
    const body = await getFrom<{
      data: {
        alerts: {
          state: string;
          activeAt: string;
          labels: Record<string, string>;
          annotations: Record<string, string>;
        }[];
      };
    }>(`${this.url}/api/v1/alerts`, 'PROMETHEUS_URL', 'Prometheus');
    return body.data.alerts
      .filter((a) => a.state === 'firing' && a.labels.service === 'entitle')
      .map((a) => ({
        alert: a.labels.alertname ?? 'unknown',
        priority: a.labels.priority ?? 'P4',
        severity: a.labels.severity ?? 'ticket',
        ...(a.labels.tier ? { tier: a.labels.tier } : {}),
        activeAt: a.activeAt,
        summary: a.annotations.summary ?? '',
        runbook: a.annotations.runbook_url ?? '',
      }));
  }
}

async function journeyFromPrometheus(prometheus: PrometheusClient, slo: Slo): Promise<JourneyStatus> {
  // Bad and all events apart: with no failure ever, the bad series does not exist (no data means
  // none failed), while no events at all means nothing can be said.
  const ratio = async (w: string) => {
    const [bad, total] = await Promise.all([
      prometheus.scalar(slo.bad.replaceAll('$w', w)),
      prometheus.scalar(slo.total.replaceAll('$w', w)),
    ]);
    return total === null || total === 0 ? null : (bad ?? 0) / total;
  };
  const [overPeriod, lastHour] = await Promise.all([ratio(`${slo.periodDays}d`), ratio('1h')]);
  return {
    slo: slo.id,
    journey: slo.journey,
    objective: slo.objectiveText,
    budgetLeft: overPeriod === null ? null : 1 - overPeriod / budget(slo),
    burnRate1h: lastHour === null ? null : lastHour / budget(slo),
  };
}

/** Release steps and other audited changes of the last 7 days, newest first. */
async function recentChanges(history: OperationsHistory, now: Date): Promise<Change[]> {
  const events = await history.auditEventsSince(new Date(now.getTime() - WEEK_MS).toISOString());
  return events
    .filter((e) => e.action.startsWith('release.') || e.action.startsWith('deploy.') || e.action.startsWith('ruleset.'))
    .map((e) => ({ at: e.at, what: e.action, subject: e.subject, actor: e.actor }))
    .reverse();
}

function verdictOf(alerts: readonly FiringAlert[], journeys: readonly JourneyStatus[]): StatusReport['verdict'] {
  if (alerts.some((a) => a.severity === 'page' || a.priority === 'P1')) return 'UNHEALTHY';
  if (alerts.length > 0 || journeys.some((j) => j.budgetLeft !== null && j.budgetLeft < 0)) return 'DEGRADED';
  return 'HEALTHY';
}

/**
 * The summary from Prometheus, which holds the history burn rates and budgets need. Without
 * Prometheus only the alerts cannot be known: `statusFromService` says so instead of guessing.
 */
export async function statusFromPrometheus(
  prometheus: PrometheusClient,
  history: OperationsHistory,
  now = new Date(),
): Promise<StatusReport> {
  const [journeys, alerts, changes, incidents] = await Promise.all([
    Promise.all(SLOS.map((slo) => journeyFromPrometheus(prometheus, slo))),
    prometheus.alerts(),
    recentChanges(history, now),
    incidentLines(history, now),
  ]);
  return {
    verdict: verdictOf(alerts, journeys),
    source: 'prometheus',
    generatedAt: now.toISOString(),
    journeys,
    alerts,
    changes,
    correlations: correlate(alerts, changes),
    incidents,
  };
}

function correlate(alerts: readonly FiringAlert[], changes: readonly Change[]): StatusReport['correlations'] {
  return alerts.flatMap((alert) => {
    const started = Date.parse(alert.activeAt);
    const change = changes.find((c) => Date.parse(c.at) <= started && started - Date.parse(c.at) <= CORRELATION_MS);
    return change ? [{ alert: alert.alert, startedAt: alert.activeAt, change }] : [];
  });
}

/**
 * Without Prometheus: the service's own /metrics, counted since the instance started. There are
 * no windows, so burn rates are not known; the ratio so far stands in for the budget.
 */
export async function statusFromService(
  serviceUrl: string,
  history: OperationsHistory,
  now = new Date(),
): Promise<StatusReport> {
  const text = await getFrom<string>(`${serviceUrl}/metrics`, 'ENTITLE_URL', 'the Entitle service');
  const sum = (pattern: RegExp) => [...text.matchAll(pattern)].reduce((total, m) => total + Number(m[1]), 0);
  const assessments = sum(
    /^entitle_http_request_duration_seconds_count\{[^}]*route="\/v1\/assessments"[^}]*\} (\S+)$/gm,
  );
  const failed = sum(
    /^entitle_http_request_duration_seconds_count\{[^}]*route="\/v1\/assessments"[^}]*status="5\d\d"[^}]*\} (\S+)$/gm,
  );
  const writes = sum(/^entitle_decision_batch_size_sum (\S+)$/gm);
  const writeFailures = sum(/^entitle_decision_write_failures_total (\S+)$/gm);
  const left = (bad: number, total: number, slo: Slo) => (total === 0 ? null : 1 - bad / total / budget(slo));
  const journeys = SLOS.map((slo) => ({
    slo: slo.id,
    journey: slo.journey,
    objective: slo.objectiveText,
    budgetLeft:
      slo.id === 'assessment_availability'
        ? left(failed, assessments, slo)
        : slo.id === 'decisions_recorded'
          ? left(writeFailures, writes, slo)
          : null,
    burnRate1h: null,
  }));
  const [changes, incidents] = await Promise.all([recentChanges(history, now), incidentLines(history, now)]);
  return {
    verdict: verdictOf([], journeys),
    source: 'service',
    generatedAt: now.toISOString(),
    journeys,
    alerts: [],
    changes,
    correlations: [],
    incidents,
  };
}

const percent = (x: number | null) => (x === null ? 'no data' : `${(x * 100).toFixed(1)}%`);

/** The summary as a person reads it at 3am. */
export function formatStatus(report: StatusReport): string {
  const lines = [
    `${report.verdict}  (from ${report.source === 'prometheus' ? 'Prometheus' : "the service's own metrics, since it started; set PROMETHEUS_URL for burn rates and alerts"}, ${report.generatedAt})`,
    '',
    'journeys',
  ];
  for (const j of report.journeys) {
    lines.push(
      `  ${j.journey}`,
      `    budget left ${percent(j.budgetLeft)}; burn rate over the last hour ${j.burnRate1h === null ? 'no data' : `${j.burnRate1h.toFixed(1)}x`}`,
    );
  }
  lines.push('', report.alerts.length === 0 ? 'alerts firing: none' : 'alerts firing');
  for (const a of report.alerts)
    lines.push(
      `  ${a.priority} ${a.severity}${a.tier ? ` (${a.tier})` : ''}  ${a.alert} since ${a.activeAt}`,
      `    ${a.summary}`,
      `    runbook: ${a.runbook}`,
    );
  lines.push(
    '',
    report.incidents.length === 0 ? 'incidents: none open' : 'incidents (open, or resolved and awaiting review)',
  );
  for (const i of report.incidents) {
    lines.push(
      `  ${i.id} ${i.priority} ${i.status.padEnd(13)} ${i.title}  (lead: ${i.lead ?? 'none'})${i.overdue.length > 0 ? `  OVERDUE: ${i.overdue.join(', ')}` : ''}`,
    );
  }
  lines.push(
    '',
    report.changes.length === 0 ? 'changes in the last 7 days: none' : 'changes in the last 7 days (newest first)',
  );
  for (const c of report.changes.slice(0, 15))
    lines.push(`  ${c.at}  ${c.what.padEnd(26)} ${c.subject}  by ${c.actor}`);
  if (report.changes.length > 15) lines.push(`  ... and ${report.changes.length - 15} more (--json for all)`);
  for (const c of report.correlations)
    lines.push(
      '',
      `${c.alert} started ${c.startedAt}, within 30 minutes after ${c.change.what} of ${c.change.subject} at ${c.change.at}: look there first`,
    );
  return `${lines.join('\n')}\n`;
}
