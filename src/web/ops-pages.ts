import type { FastifyInstance } from 'fastify';
import { DEGRADATION_STEPS, type DegradationStep } from '../capacity/index.ts';
import { isStale, pendingFlagChanges, percentOf, type Flag, type FlagState } from '../flags/index.ts';
import type { ServiceContext } from '../http/index.ts';
import { buildTimeline } from '../incident-reports/index.ts';
import { getIncident, listIncidents, overdue } from '../incidents/index.ts';
import { PRIORITY_DEFINITIONS, type Incident, type IncidentSource } from '../incidents/index.ts';
import { historyFromDatabase, PrometheusClient, statusFromPrometheus } from '../monitoring/index.ts';
import { listReleases, releasesUnderTest, type Release } from '../releases/index.ts';
import { SLOS } from '../slos/index.ts';
import { fromStore, within } from './reads.ts';
import { PAGE, render, type Views } from './views.ts';

const SOURCES: Readonly<Record<IncidentSource, string>> = {
  manual: 'A person',
  alertmanager: 'An alert, through Alertmanager',
  'release-rollback': 'An automatic release rollback',
};

const PROMETHEUS_TIMEOUT_MS = 3_000;

/** An incident as a row of a table: its lead and what is late. */
function row(incident: Incident, now: Date) {
  return {
    incident,
    lead: incident.roles.findLast((r) => r.role === 'incident-lead')?.person,
    overdue: overdue(incident, now),
  };
}

/** What a release page may show: ids, benefit, state, summary and dates (never its author). */
function releaseRow(release: Release) {
  const { id, benefit, state, summary, effectiveAt, canaryBasisPoints, shadowSharePpm, createdAt } = release;
  return { id, benefit, state, summary, effectiveAt, canaryBasisPoints, shadowSharePpm, createdAt };
}

/** A flag's state in words: on, off, or on for a share of applications. */
function flagStateText(state: Pick<FlagState, 'enabled' | 'rolloutBasisPoints'>): string {
  if (!state.enabled) return 'Off';
  return state.rolloutBasisPoints >= 10_000 ? 'On' : `On for ${percentOf(state.rolloutBasisPoints)} of applications`;
}

/** What a flag page may show: the flag as every instance follows it (never who changed it). */
function flagRow(flag: Flag, today: string) {
  const { key, description, kind, owner, expiresOn, enabled, updatedAt } = flag;
  return {
    key,
    description,
    kind,
    owner,
    expiresOn,
    enabled,
    updatedAt,
    state: flagStateText(flag),
    stale: isStale(flag, today),
  };
}

/** Whether each degradation step runs on this instance now, and if not, what dropped it. */
function stepRows(context: ServiceContext) {
  const { degradation } = context.capacity;
  return DEGRADATION_STEPS.map((step: DegradationStep) => ({
    step,
    state: degradation.allows(step) ? 'running' : degradation.dropsAutomatically(step) ? 'pressure' : 'flag',
  }));
}

/** Budget left per journey from Prometheus, or why it cannot be shown. */
async function budgets(
  context: ServiceContext,
  prometheusUrl: string | undefined,
): Promise<{ left?: Record<string, string>; notice?: string }> {
  if (!prometheusUrl)
    return {
      notice:
        'Prometheus is not configured, so error budgets are not shown. Set PROMETHEUS_URL to show how much error budget each journey has left.',
    };
  try {
    const report = await within(
      PROMETHEUS_TIMEOUT_MS,
      statusFromPrometheus(new PrometheusClient(prometheusUrl), historyFromDatabase(context.db)),
    );
    return {
      left: Object.fromEntries(
        report.journeys.map((j) => [j.slo, j.budgetLeft === null ? 'No data' : `${(j.budgetLeft * 100).toFixed(1)}%`]),
      ),
    };
  } catch {
    return {
      notice: `Prometheus at ${prometheusUrl} did not answer, so error budgets are not shown. Check PROMETHEUS_URL and that Prometheus is running.`,
    };
  }
}

/** The console's read-only pages; the caller has checked the session. */
export function registerOpsPages(
  pages: FastifyInstance,
  context: ServiceContext,
  views: Views,
  prometheusUrl: string | undefined,
): void {
  pages.get('/', PAGE, async (request, reply) => {
    const now = new Date();
    const [open, underTest, budget] = await Promise.all([
      fromStore(listIncidents(context.db, { open: true })),
      fromStore(releasesUnderTest(context.db)),
      budgets(context, prometheusUrl),
    ]);
    return render(views, reply, 'ops/overview.njk', {
      session: request.opsSession,
      incidents: open.map((i) => row(i, now)),
      releases: underTest.map(releaseRow),
      slos: SLOS.map(({ id, journey, objectiveText }) => ({ id, journey, objectiveText })),
      budgets: budget,
    });
  });

  pages.get('/incidents', PAGE, async (request, reply) => {
    const now = new Date();
    const incidents = await fromStore(listIncidents(context.db));
    return render(views, reply, 'ops/incidents.njk', {
      session: request.opsSession,
      incidents: incidents.map((i) => row(i, now)),
    });
  });

  pages.get<{ Params: { id: string } }>('/incidents/:id', PAGE, async (request, reply) => {
    const incident = await fromStore(getIncident(context.db, request.params.id));
    // The timeline rebuilt from every record (entries, alerts, releases, deploys, per-minute counts).
    const timeline = await fromStore(buildTimeline(context.db, incident));
    const journeys = incident.journeys.map((id) => SLOS.find((slo) => slo.id === id)?.journey ?? id);
    return render(views, reply, 'ops/incident.njk', {
      session: request.opsSession,
      incident,
      entries: timeline.items,
      journeys,
      overdue: overdue(incident, new Date()),
      definition: PRIORITY_DEFINITIONS[incident.priority],
      SOURCES,
    });
  });

  pages.get('/releases', PAGE, async (request, reply) => {
    const releases = await fromStore(listReleases(context.db));
    return render(views, reply, 'ops/releases.njk', {
      session: request.opsSession,
      releases: releases.map(releaseRow).reverse(),
    });
  });

  pages.get('/flags', PAGE, async (request, reply) => {
    const today = new Date().toISOString().slice(0, 10);
    const pending = await fromStore(pendingFlagChanges(context.db));
    const { degradation, admission } = context.capacity;
    return render(views, reply, 'ops/flags.njk', {
      session: request.opsSession,
      flags: context.flags.flags.map((flag) => flagRow(flag, today)),
      pending: pending.map(({ id, flagKey, before, after, reason, requestedAt }) => ({
        id,
        flagKey,
        before: flagStateText(before),
        after: flagStateText(after),
        reason,
        requestedAt,
      })),
      degradation: {
        level: degradation.level,
        automatic: context.flags.isOn('automatic-degradation'),
        steps: stepRows(context),
      },
      admission: {
        inFlight: admission.inFlight,
        queued: admission.queued,
        maxConcurrent: admission.settings.maxConcurrent,
        queueLimit: admission.settings.queueLimit,
      },
    });
  });
}
