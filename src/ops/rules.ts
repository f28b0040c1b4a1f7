import {
  budget,
  ROLLBACK_WITHIN_SECONDS,
  SLOS,
  TIERS,
  WINDOWS,
  type Priority,
  type Slo,
  type Tier,
  type TierName,
} from '../slos/index.ts';

/** Where runbooks are published; `entitle ops generate --runbook-base` sets it for a deployment. */
export const DEFAULT_RUNBOOK_BASE = 'docs/runbooks';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: readonly (AlertRule | RecordingRule)[];
}

const camel = (id: string) => id.replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());

/** The alert name of an SLO's burn-rate alerts (one name, a `tier` label per tier). */
export function burnAlertName(slo: Slo): string {
  return `Entitle${camel(slo.id)}BudgetBurn`;
}

export const ABSENT_ALERT = 'EntitleMetricsAbsent';
export const ROLLED_BACK_ALERT = 'EntitleReleaseRolledBackAutomatically';
export const ROLLBACK_SLOW_ALERT = 'EntitleReleaseRollbackSlow';
export const INSTANCES_DISAGREE_ALERT = 'EntitleInstancesServeDifferentRules';
export const EVENT_LOOP_ALERT = 'EntitleEventLoopSaturated';
export const CHAIN_BROKEN_ALERT = 'EntitleDecisionChainBroken';
export const LOG_STALLED_ALERT = 'EntitleLogCheckpointsStalled';
export const OVERLOADED_ALERT = 'EntitleRefusingCitizensOverloaded';
export const DEGRADED_ALERT = 'EntitleDegradedUnderPressure';
export const SCHEDULED_JOB_ALERT = 'EntitleScheduledJobLate';
/** 1 in the 24 hours after a deploy or rollback (src/deploys/heightened.ts). */
export const HEIGHTENED_METRIC = 'entitle_deploy_heightened';

/**
 * The scheduled jobs (CronJobs, src/manifests) and the longest each may go without a success, in
 * seconds: a daily job two hours late, the probe (every 5 minutes) after 20 minutes.
 */
export const SCHEDULED_JOB_PERIODS: Readonly<Record<string, number>> = Object.freeze({
  'entitle-backup': 26 * 3600,
  'entitle-audit-verify': 26 * 3600,
  'entitle-retention-purge': 26 * 3600,
  'entitle-probe': 20 * 60,
});

/**
 * A duration divided by `scale`: the end-to-end test runs the real rules with an hour lasting a
 * minute (scale 60), so an alert can fire within a test. Production uses scale 1.
 */
function scaled(duration: string, scale: number): string {
  if (scale === 1) return duration;
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[duration.slice(-1) as 's' | 'm' | 'h' | 'd'];
  return `${Math.max(1, Math.round((Number(duration.slice(0, -1)) * unit) / scale))}s`;
}

const ratio = (slo: Slo, w: string) => `slo:sli_error:ratio_rate${w}{slo="${slo.id}"}`;
const events = (slo: Slo, w: string) => `slo:sli_events:rate${w}{slo="${slo.id}"}`;
const pct = (x: number) => `${Number((x * 100).toPrecision(6))}%`;

function recordingRules(slo: Slo, scale: number): RecordingRule[] {
  return WINDOWS.flatMap((w) => {
    const range = scaled(w, scale);
    return [
      {
        record: `slo:sli_error:ratio_rate${w}`,
        expr: `(${slo.bad.replaceAll('$w', range)})\n/\n(${slo.total.replaceAll('$w', range)})`,
        labels: { slo: slo.id },
      },
      { record: `slo:sli_events:rate${w}`, expr: slo.total.replaceAll('$w', range), labels: { slo: slo.id } },
    ];
  });
}

function priorityOf(slo: Slo, tier: Tier): Priority {
  return tier.severity === 'page' ? slo.priority.page : slo.priority.ticket;
}

function burnAlert(slo: Slo, tier: Tier, runbookBase: string, scale: number): AlertRule {
  // Rounded, so the rule reads 0.0144 rather than the float 0.014400000000000013.
  const threshold = Number((tier.burnRate * budget(slo)).toPrecision(6));
  const name = burnAlertName(slo);
  return {
    alert: name,
    // Both windows must burn (the long one proves it matters, the short one that it is still
    // happening), and there must be enough traffic for a ratio to mean anything.
    expr: [
      `${ratio(slo, tier.longWindow)} > ${threshold}`,
      `and ${ratio(slo, tier.shortWindow)} > ${threshold}`,
      `and ${events(slo, tier.longWindow)} > ${slo.minEventsPerSecond}`,
      // The heightened window: the service says 1 for 24 hours after a deploy or rollback.
      ...(tier.afterDeployOnly ? [`and on() max(${HEIGHTENED_METRIC}) == 1`] : []),
    ].join('\n'),
    for: scaled(tier.for, scale),
    labels: {
      severity: tier.severity,
      priority: priorityOf(slo, tier),
      tier: tier.name,
      slo: slo.id,
      service: 'entitle',
    },
    annotations: {
      summary: `${slo.journey}: the error budget is burning ${tier.burnRate}x too fast${tier.afterDeployOnly ? ' within 24 hours of a deploy' : ''}`,
      description: `More than ${pct(threshold)} of events failed over both the last ${tier.longWindow} and the last ${tier.shortWindow} (objective: ${slo.objectiveText}). At this rate the ${slo.periodDays}-day budget lasts ${budgetDays(slo, tier)}.${tier.afterDeployOnly ? ' This threshold applies only in the 24 hours after a deploy or rollback: suspect the deploy first (entitle deploy history).' : ''}`,
      citizen_impact: slo.citizenImpact,
      runbook_url: `${runbookBase}/${name}.md`,
    },
  };
}

function budgetDays(slo: Slo, tier: Tier): string {
  const hours = (slo.periodDays * 24) / tier.burnRate;
  return hours < 48 ? `${Math.round(hours)} hours` : `${Math.round(hours / 24)} days`;
}

function serviceAlerts(runbookBase: string): AlertRule[] {
  return [
    {
      alert: ABSENT_ALERT,
      // An unlabelled counter every instance exports from its first second: if no series exists,
      // no instance is being scraped, and every other alert is blind.
      expr: 'absent(entitle_decision_write_failures_total)',
      for: '5m',
      labels: { severity: 'page', priority: 'P1', service: 'entitle' },
      annotations: {
        summary: 'No Entitle instance is reporting metrics',
        description:
          'Prometheus has no Entitle metrics: every instance is down, or Prometheus cannot reach them. Every other Entitle alert is blind until this is fixed.',
        citizen_impact:
          'Possibly none, possibly total: if the service is down, no citizen can get an assessment. Check at once.',
        runbook_url: `${runbookBase}/${ABSENT_ALERT}.md`,
      },
    },
    {
      alert: ROLLED_BACK_ALERT,
      expr: 'sum by (benefit) (increase(entitle_release_automatic_rollbacks_total[10m])) > 0',
      for: '0m',
      labels: { severity: 'ticket', priority: 'P2', service: 'entitle' },
      annotations: {
        summary: 'A rule release was rolled back automatically',
        description:
          'A release under test differed from the active version in ways it did not declare, or failed where the active version did not, and the service rolled it back. If it was in a canary or active, some citizens were decided by it.',
        citizen_impact:
          'The previous rules decide every application again. Citizens decided by the release while it was in a canary may have had a wrong decision: list them with "entitle release affected".',
        runbook_url: `${runbookBase}/${ROLLED_BACK_ALERT}.md`,
      },
    },
    {
      alert: ROLLBACK_SLOW_ALERT,
      expr: `sum(increase(entitle_release_rollback_delay_seconds_count[1h])) - sum(increase(entitle_release_rollback_delay_seconds_bucket{le="${ROLLBACK_WITHIN_SECONDS}"}[1h])) > 0`,
      for: '0m',
      labels: { severity: 'ticket', priority: 'P3', service: 'entitle', slo: 'bad_release_undone_quickly' },
      annotations: {
        summary: `A bad release took more than ${ROLLBACK_WITHIN_SECONDS} s to be rolled back`,
        description: `An automatic rollback came more than ${ROLLBACK_WITHIN_SECONDS} s after the release's first unexpected difference (objective: a bad release is undone within ${ROLLBACK_WITHIN_SECONDS} s).`,
        citizen_impact:
          'While a bad release is in a canary, the citizens it decides may get wrong decisions; a slow rollback means more of them.',
        runbook_url: `${runbookBase}/${ROLLBACK_SLOW_ALERT}.md`,
      },
    },
    {
      alert: INSTANCES_DISAGREE_ALERT,
      // Each instance reports the version it serves per benefit: more than one version of a
      // benefit in service means a promotion or rollback has not reached every instance.
      expr: 'count by (benefit) (count by (benefit, ruleset) (entitle_ruleset_served{role="active"})) > 1',
      for: '2m',
      labels: { severity: 'page', priority: 'P1', service: 'entitle' },
      annotations: {
        summary: 'Instances are deciding with different rule-set versions',
        description:
          'For at least 2 minutes, instances have served different active versions of one benefit: a promotion or rollback has not reached every instance (it should within a second).',
        citizen_impact: 'The same circumstances get different decisions depending on which instance answers.',
        runbook_url: `${runbookBase}/${INSTANCES_DISAGREE_ALERT}.md`,
      },
    },
    {
      alert: CHAIN_BROKEN_ALERT,
      // Each instance verifies the records added to the chain as they come (entitle_chain_intact).
      expr: 'min(entitle_chain_intact) == 0',
      for: '0m',
      labels: { severity: 'page', priority: 'P1', service: 'entitle', slo: 'decisions_recorded' },
      annotations: {
        summary: 'The record of decisions does not verify',
        description:
          "An instance found a decision that no longer matches its leaf in the verifiable log, a leaf missing, a log rewound below what it had verified, or a checkpoint without the log key's signature: the record of decisions can no longer be trusted as it stands.",
        citizen_impact:
          'Decisions already made stand, but one that was altered cannot be relied on in a challenge or appeal; this may be a security incident.',
        runbook_url: `${runbookBase}/${CHAIN_BROKEN_ALERT}.md`,
      },
    },
    {
      alert: LOG_STALLED_ALERT,
      // Records wait for their place in the log while no new checkpoint is signed.
      expr: 'max(entitle_log_queued_leaves) > 0 and (time() - max(entitle_log_checkpoint_timestamp_seconds)) > 120',
      for: '5m',
      labels: { severity: 'ticket', priority: 'P2', service: 'entitle' },
      annotations: {
        summary: 'Records are waiting and no checkpoint has been signed for minutes',
        description:
          'Decisions or audit events are committed but not placed in the verifiable log, and no instance has signed a checkpoint for over 2 minutes: the sequencer is failing (the database, or a log that no longer gives its signed root).',
        citizen_impact:
          'Decisions are still made and recorded, but their receipts cannot be issued until the log catches up.',
        runbook_url: `${runbookBase}/${LOG_STALLED_ALERT}.md`,
      },
    },
    {
      alert: SCHEDULED_JOB_ALERT,
      // kube-state-metrics: when each CronJob last succeeded. One series per job, each with its period.
      expr: Object.entries(SCHEDULED_JOB_PERIODS)
        .map(
          ([cronjob, seconds]) =>
            `(time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{cronjob="${cronjob}"})) > ${seconds}`,
        )
        .join('\nor '),
      for: '5m',
      labels: { severity: 'ticket', priority: 'P2', service: 'entitle' },
      annotations: {
        summary: 'A scheduled job of Entitle has not succeeded in its period (the cronjob label names it)',
        description:
          'The backup, the daily audit verify, the retention purge (each within 26 hours) or the synthetic probe (within 20 minutes) has not succeeded: its last run failed, or it has not run.',
        citizen_impact:
          'None at once. Without backups a lost database loses decisions; without the daily verify an altered record is found later; without the purge personal data is kept past its time; without the probe a broken journey is found by citizens.',
        runbook_url: `${runbookBase}/${SCHEDULED_JOB_ALERT}.md`,
      },
    },
    {
      alert: EVENT_LOOP_ALERT,
      expr: 'max by (instance) (nodejs_eventloop_lag_p99_seconds{job="entitle"}) > 0.5',
      for: '5m',
      labels: { severity: 'ticket', priority: 'P2', service: 'entitle' },
      annotations: {
        summary: 'An Entitle instance is saturated: its event loop lags by more than half a second',
        description:
          'For 5 minutes, the 99th percentile of event loop lag on one instance has been above 0.5 s: every request on it waits at least that long.',
        citizen_impact:
          'Citizens served by that instance wait longer; some front ends may time out and ask them to try again.',
        runbook_url: `${runbookBase}/${EVENT_LOOP_ALERT}.md`,
      },
    },
    {
      alert: OVERLOADED_ALERT,
      // Citizen assessments refused by admission control: the fleet is past its capacity.
      expr: 'sum(rate(entitle_admission_rejected_total{job="entitle",priority="citizen"}[5m])) > 0.1',
      for: '2m',
      labels: { severity: 'page', priority: 'P2', service: 'entitle' },
      annotations: {
        summary: 'Entitle is past its capacity: citizen assessments are being refused with 503 and Retry-After',
        description:
          'For 2 minutes, admission control has refused citizen assessments (queue full or waited too long) on at least one instance. Add instances.',
        citizen_impact:
          'Some citizens are asked to try again shortly; those who get an answer get it as quickly as usual. No decision is lost or recorded twice.',
        runbook_url: `${runbookBase}/${OVERLOADED_ALERT}.md`,
      },
    },
    {
      alert: DEGRADED_ALERT,
      expr: 'max by (instance) (entitle_degradation_level{job="entitle"}) > 0',
      for: '15m',
      labels: { severity: 'ticket', priority: 'P3', service: 'entitle' },
      annotations: {
        summary: 'An Entitle instance has been shedding non-critical work under pressure for 15 minutes',
        description:
          'The instance has dropped shadow evaluation, and perhaps explanation traces and replay and report endpoints, for 15 minutes: pressure has not fallen. Releases under test gather fewer comparisons meanwhile.',
        citizen_impact:
          'None yet: citizens keep getting decisions and their reasons. Full explanation traces, decision replay and reports may be unavailable to staff.',
        runbook_url: `${runbookBase}/${DEGRADED_ALERT}.md`,
      },
    },
  ];
}

/** Which tiers are switched on, per SLO: the definition's list, narrowed by `disabled`. */
export interface GenerateOptions {
  readonly runbookBase?: string;
  /** Tiers switched off for every SLO, such as `ticket-slow` on a low-traffic service. */
  readonly disabledTiers?: readonly TierName[];
  /** Divide every window and `for` by this (tests only: 60 makes an hour a minute). */
  readonly timeScale?: number;
}

export function ruleGroups(options: GenerateOptions = {}): RuleGroup[] {
  const base = options.runbookBase ?? DEFAULT_RUNBOOK_BASE;
  const off = new Set(options.disabledTiers ?? []);
  const scale = options.timeScale ?? 1;
  return [
    ...SLOS.map((slo) => ({
      name: `entitle-slo-${slo.id}-recording`,
      interval: scale === 1 ? '30s' : '1s',
      rules: recordingRules(slo, scale),
    })),
    {
      name: 'entitle-slo-alerts',
      rules: SLOS.flatMap((slo) =>
        TIERS.filter((t) => slo.tiers.includes(t.name) && !off.has(t.name)).map((tier) =>
          burnAlert(slo, tier, base, scale),
        ),
      ),
    },
    { name: 'entitle-service-alerts', rules: serviceAlerts(base) },
  ];
}

/** Every alert the rules define, once per name: what runbooks and tests are generated for. */
export function alertNames(groups: readonly RuleGroup[]): string[] {
  return [...new Set(groups.flatMap((g) => g.rules.flatMap((r) => ('alert' in r ? [r.alert] : []))))];
}

/**
 * Alertmanager's inhibition: while a fast-burn page fires for an SLO, the slower tiers of the same
 * SLO stay quiet (one page, not four), and while the metrics are absent nothing else pages.
 */
export function alertmanagerConfig(
  webhook: { readonly url: string; readonly keyFile?: string; readonly pagerSlackUrlFile?: string },
  timing = { groupWait: '30s', groupInterval: '5m', repeatInterval: '4h' },
): Record<string, unknown> {
  // Alerts go to Entitle's own incident webhook, which opens or updates an incident per group and
  // tells on-call through the escalation policy; it takes an API key with the alertmanager role.
  const config = {
    url: webhook.url,
    send_resolved: true,
    ...(webhook.keyFile
      ? { http_config: { authorization: { type: 'Bearer', credentials_file: webhook.keyFile } } }
      : {}),
  };
  // The incident webhook needs Entitle and its database: when they are what failed, the page
  // must still arrive, so on-call is also paged straight from Alertmanager.
  const pager = webhook.pagerSlackUrlFile
    ? {
        slack_configs: [
          {
            api_url_file: webhook.pagerSlackUrlFile,
            send_resolved: true,
            title: '[{{ .CommonLabels.priority }}] {{ .CommonAnnotations.summary }}',
            text: '{{ .CommonAnnotations.citizen_impact }}\nRunbook: {{ .CommonAnnotations.runbook_url }}',
          },
        ],
      }
    : {};
  return {
    route: {
      receiver: 'entitle-on-call',
      group_by: ['alertname', 'slo', 'benefit'],
      group_wait: timing.groupWait,
      group_interval: timing.groupInterval,
      repeat_interval: timing.repeatInterval,
    },
    receivers: [{ name: 'entitle-on-call', webhook_configs: [config], ...pager }],
    inhibit_rules: [
      {
        source_matchers: ['tier="page-fast"'],
        target_matchers: ['tier=~"page-after-deploy|page-slow|ticket-fast|ticket-slow"'],
        equal: ['slo'],
      },
      {
        source_matchers: ['tier="page-after-deploy"'],
        target_matchers: ['tier=~"page-slow|ticket-fast|ticket-slow"'],
        equal: ['slo'],
      },
      { source_matchers: ['tier="page-slow"'], target_matchers: ['tier=~"ticket-fast|ticket-slow"'], equal: ['slo'] },
      { source_matchers: ['tier="ticket-fast"'], target_matchers: ['tier="ticket-slow"'], equal: ['slo'] },
      {
        source_matchers: [`alertname="${ABSENT_ALERT}"`],
        target_matchers: ['service="entitle"', `alertname!="${ABSENT_ALERT}"`],
      },
    ],
  };
}
