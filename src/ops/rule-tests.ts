import { budget, SLOS, TIERS, type Slo } from '../slos/index.ts';
import {
  ABSENT_ALERT,
  burnAlertName,
  CHAIN_BROKEN_ALERT,
  HEIGHTENED_METRIC,
  LOG_STALLED_ALERT,
  DEGRADED_ALERT,
  EVENT_LOOP_ALERT,
  INSTANCES_DISAGREE_ALERT,
  OVERLOADED_ALERT,
  ROLLBACK_SLOW_ALERT,
  ROLLED_BACK_ALERT,
  SCHEDULED_JOB_ALERT,
  type AlertRule,
  type RuleGroup,
} from './rules.ts';

/**
 * promtool unit tests for every generated alert: for each, input series that make it fire (and
 * the exact labels and annotations expected), series that must not fire, and series with too
 * little traffic (or, for the service alerts, an idle service) that must not fire either. The
 * expectations come from the same definitions, but the verdicts come from Prometheus's own rule
 * engine evaluating the generated PromQL, so a wrong expression or threshold fails.
 */
export interface PromtoolTestFile {
  readonly rule_files: readonly string[];
  readonly evaluation_interval: string;
  readonly tests: readonly PromtoolTest[];
}

interface PromtoolTest {
  readonly name: string;
  readonly interval: string;
  readonly input_series: readonly { readonly series: string; readonly values: string }[];
  readonly alert_rule_test: readonly {
    readonly eval_time: string;
    readonly alertname: string;
    readonly exp_alerts: readonly ExpectedAlert[];
  }[];
}

interface ExpectedAlert {
  readonly exp_labels: Readonly<Record<string, string>>;
  readonly exp_annotations: Readonly<Record<string, string>>;
}

const minutes = (duration: string) => {
  const n = Number(duration.slice(0, -1));
  return duration.endsWith('h') ? n * 60 : duration.endsWith('d') ? n * 1440 : n;
};

/** A counter growing by `perMinute` every minute for `length` minutes. */
const growing = (perMinute: number, length: number) => `0+${Number(perMinute.toPrecision(12))}x${length}`;

function expected(rule: AlertRule, extraLabels: Record<string, string> = {}): ExpectedAlert {
  return { exp_labels: { ...extraLabels, ...rule.labels }, exp_annotations: rule.annotations };
}

function sloTests(slo: Slo, rules: readonly AlertRule[]): PromtoolTest[] {
  const name = burnAlertName(slo);
  const tests: PromtoolTest[] = [];
  // Enough events a minute that the smallest budget still gives whole-ish counts.
  const total = 10_000;
  for (const rule of rules) {
    const tier = TIERS.find((t) => t.name === rule.labels.tier)!;
    // 1.5 times this tier's threshold is below the next faster tier's, so exactly this tier
    // fires, once its `for` has passed and before the slower tiers' have.
    const bad = total * Math.min(0.9, 1.5 * tier.burnRate * budget(slo));
    const evalMinutes = minutes(tier.for) + 10;
    const series = slo
      .testSeries(total - bad, bad)
      .map((s) => ({ series: s.series, values: growing(s.perMinute, evalMinutes + 5) }));
    // The after-deploy tier needs the heightened window open, and stays quiet when it is closed.
    const heightened = (open: boolean) => ({
      series: HEIGHTENED_METRIC,
      values: `${open ? 1 : 0}+0x${evalMinutes + 5}`,
    });
    tests.push({
      name: `${name} ${tier.name}: fires at ${tier.burnRate * 1.5}x the budget rate${tier.afterDeployOnly ? ' within 24 hours of a deploy' : ''}`,
      interval: '1m',
      input_series: tier.afterDeployOnly ? [...series, heightened(true)] : series,
      alert_rule_test: [
        { eval_time: `${evalMinutes}m`, alertname: name, exp_alerts: [expected(rule, { slo: slo.id })] },
      ],
    });
    if (tier.afterDeployOnly)
      tests.push({
        name: `${name} ${tier.name}: does not fire at ${tier.burnRate * 1.5}x outside the 24 hours after a deploy`,
        interval: '1m',
        input_series: [...series, heightened(false)],
        alert_rule_test: [{ eval_time: `${evalMinutes}m`, alertname: name, exp_alerts: [] }],
      });
  }
  const slowest = Math.min(...rules.map((r) => TIERS.find((t) => t.name === r.labels.tier)!.burnRate));
  const quietMinutes = Math.max(...rules.map((r) => minutes(r.for))) + 20;
  const within = total * 0.5 * slowest * budget(slo);
  tests.push({
    name: `${name}: does not fire within budget (half the slowest tier's rate)`,
    interval: '1m',
    input_series: slo
      .testSeries(total - within, within)
      .map((s) => ({ series: s.series, values: growing(s.perMinute, quietMinutes + 5) })),
    alert_rule_test: [{ eval_time: `${quietMinutes}m`, alertname: name, exp_alerts: [] }],
  });
  // Half of all events failing, but one event every two minutes: below the traffic guard.
  tests.push({
    name: `${name}: does not fire on too little traffic`,
    interval: '1m',
    input_series: slo.testSeries(0.25, 0.25).map((s) => ({ series: s.series, values: growing(s.perMinute, 125) })),
    alert_rule_test: [{ eval_time: '120m', alertname: name, exp_alerts: [] }],
  });
  return tests;
}

function serviceTests(rule: AlertRule): PromtoolTest[] {
  switch (rule.alert) {
    case ABSENT_ALERT:
      return [
        {
          name: `${ABSENT_ALERT}: fires when no instance reports`,
          interval: '1m',
          input_series: [{ series: 'up{job="entitle"}', values: '0x20' }],
          alert_rule_test: [{ eval_time: '10m', alertname: ABSENT_ALERT, exp_alerts: [expected(rule)] }],
        },
        {
          name: `${ABSENT_ALERT}: does not fire while instances report`,
          interval: '1m',
          input_series: [{ series: 'entitle_decision_write_failures_total{instance="a"}', values: growing(0, 20) }],
          alert_rule_test: [{ eval_time: '10m', alertname: ABSENT_ALERT, exp_alerts: [] }],
        },
        {
          name: `${ABSENT_ALERT}: does not fire for an idle service`,
          interval: '1m',
          input_series: [{ series: 'entitle_decision_write_failures_total{instance="a"}', values: '0x20' }],
          alert_rule_test: [{ eval_time: '10m', alertname: ABSENT_ALERT, exp_alerts: [] }],
        },
      ];
    case ROLLED_BACK_ALERT:
      return [
        {
          name: `${ROLLED_BACK_ALERT}: fires after an automatic rollback`,
          interval: '1m',
          input_series: [
            {
              series: 'entitle_release_automatic_rollbacks_total{benefit="universal-credit",instance="a"}',
              values: '0x5 1x10',
            },
          ],
          alert_rule_test: [
            {
              eval_time: '7m',
              alertname: ROLLED_BACK_ALERT,
              exp_alerts: [expected(rule, { benefit: 'universal-credit' })],
            },
          ],
        },
        {
          name: `${ROLLED_BACK_ALERT}: quiet without rollbacks`,
          interval: '1m',
          input_series: [
            {
              series: 'entitle_release_automatic_rollbacks_total{benefit="universal-credit",instance="a"}',
              values: '0x15',
            },
          ],
          alert_rule_test: [{ eval_time: '7m', alertname: ROLLED_BACK_ALERT, exp_alerts: [] }],
        },
        {
          name: `${ROLLED_BACK_ALERT}: quiet ten minutes after`,
          interval: '1m',
          input_series: [
            {
              series: 'entitle_release_automatic_rollbacks_total{benefit="universal-credit",instance="a"}',
              values: '0x5 1x30',
            },
          ],
          alert_rule_test: [{ eval_time: '30m', alertname: ROLLED_BACK_ALERT, exp_alerts: [] }],
        },
      ];
    case ROLLBACK_SLOW_ALERT:
      return [
        {
          name: `${ROLLBACK_SLOW_ALERT}: fires when a rollback took longer than the objective`,
          interval: '1m',
          input_series: [
            { series: 'entitle_release_rollback_delay_seconds_count{instance="a"}', values: '0x5 1x10' },
            { series: 'entitle_release_rollback_delay_seconds_bucket{instance="a",le="60"}', values: '0x15' },
          ],
          alert_rule_test: [{ eval_time: '7m', alertname: ROLLBACK_SLOW_ALERT, exp_alerts: [expected(rule)] }],
        },
        {
          name: `${ROLLBACK_SLOW_ALERT}: quiet when rollbacks are quick`,
          interval: '1m',
          input_series: [
            { series: 'entitle_release_rollback_delay_seconds_count{instance="a"}', values: '0x5 1x10' },
            { series: 'entitle_release_rollback_delay_seconds_bucket{instance="a",le="60"}', values: '0x5 1x10' },
          ],
          alert_rule_test: [{ eval_time: '7m', alertname: ROLLBACK_SLOW_ALERT, exp_alerts: [] }],
        },
        {
          name: `${ROLLBACK_SLOW_ALERT}: quiet with no rollbacks at all`,
          interval: '1m',
          input_series: [{ series: 'up{job="entitle"}', values: '1x15' }],
          alert_rule_test: [{ eval_time: '7m', alertname: ROLLBACK_SLOW_ALERT, exp_alerts: [] }],
        },
      ];
    case INSTANCES_DISAGREE_ALERT: {
      const served = (instance: string, ruleset: string) =>
        `entitle_ruleset_served{instance="${instance}",benefit="universal-credit",ruleset="${ruleset}",role="active"}`;
      return [
        {
          name: `${INSTANCES_DISAGREE_ALERT}: fires when an instance keeps serving the old version`,
          interval: '1m',
          input_series: [
            { series: served('a', 'sha256:new'), values: '1x10' },
            { series: served('b', 'sha256:new'), values: '1x10' },
            { series: served('c', 'sha256:old'), values: '1x10' },
          ],
          alert_rule_test: [
            {
              eval_time: '5m',
              alertname: INSTANCES_DISAGREE_ALERT,
              exp_alerts: [expected(rule, { benefit: 'universal-credit' })],
            },
          ],
        },
        {
          name: `${INSTANCES_DISAGREE_ALERT}: quiet when every instance agrees`,
          interval: '1m',
          input_series: [
            { series: served('a', 'sha256:new'), values: '1x10' },
            { series: served('b', 'sha256:new'), values: '1x10' },
          ],
          alert_rule_test: [{ eval_time: '5m', alertname: INSTANCES_DISAGREE_ALERT, exp_alerts: [] }],
        },
        {
          name: `${INSTANCES_DISAGREE_ALERT}: quiet during a switch shorter than 2 minutes`,
          interval: '1m',
          input_series: [
            { series: served('a', 'sha256:new'), values: '1x10' },
            { series: served('b', 'sha256:old'), values: '1 stale' },
            { series: served('b', 'sha256:new'), values: '_ 1x9' },
          ],
          alert_rule_test: [{ eval_time: '5m', alertname: INSTANCES_DISAGREE_ALERT, exp_alerts: [] }],
        },
      ];
    }
    case CHAIN_BROKEN_ALERT:
      return [
        {
          name: `${CHAIN_BROKEN_ALERT}: fires as soon as one instance finds the chain broken`,
          interval: '1m',
          input_series: [
            { series: 'entitle_chain_intact{instance="a"}', values: '1x10' },
            { series: 'entitle_chain_intact{instance="b"}', values: '1x3 0x7' },
          ],
          alert_rule_test: [{ eval_time: '5m', alertname: CHAIN_BROKEN_ALERT, exp_alerts: [expected(rule)] }],
        },
        {
          name: `${CHAIN_BROKEN_ALERT}: quiet while the chain is intact`,
          interval: '1m',
          input_series: [{ series: 'entitle_chain_intact{instance="a"}', values: '1x10' }],
          alert_rule_test: [{ eval_time: '5m', alertname: CHAIN_BROKEN_ALERT, exp_alerts: [] }],
        },
        {
          name: `${CHAIN_BROKEN_ALERT}: quiet for an idle service (nothing new to verify)`,
          interval: '1m',
          input_series: [
            { series: 'entitle_chain_intact{instance="a"}', values: '1x10' },
            { series: 'entitle_chain_verified_records{instance="a"}', values: '0x10' },
          ],
          alert_rule_test: [{ eval_time: '5m', alertname: CHAIN_BROKEN_ALERT, exp_alerts: [] }],
        },
      ];
    case LOG_STALLED_ALERT:
      return [
        {
          name: `${LOG_STALLED_ALERT}: fires when records wait and no checkpoint is signed`,
          interval: '1m',
          input_series: [
            { series: 'entitle_log_queued_leaves{instance="a",log="decisions"}', values: '5x15' },
            { series: 'entitle_log_checkpoint_timestamp_seconds{instance="a",log="decisions"}', values: '0x15' },
          ],
          alert_rule_test: [{ eval_time: '10m', alertname: LOG_STALLED_ALERT, exp_alerts: [expected(rule)] }],
        },
        {
          name: `${LOG_STALLED_ALERT}: quiet while checkpoints keep being signed`,
          interval: '1m',
          input_series: [
            { series: 'entitle_log_queued_leaves{instance="a",log="decisions"}', values: '5x15' },
            { series: 'entitle_log_checkpoint_timestamp_seconds{instance="a",log="decisions"}', values: '0+60x15' },
          ],
          alert_rule_test: [{ eval_time: '10m', alertname: LOG_STALLED_ALERT, exp_alerts: [] }],
        },
        {
          name: `${LOG_STALLED_ALERT}: quiet when nothing waits (an idle service signs nothing new)`,
          interval: '1m',
          input_series: [
            { series: 'entitle_log_queued_leaves{instance="a",log="decisions"}', values: '0x15' },
            { series: 'entitle_log_checkpoint_timestamp_seconds{instance="a",log="decisions"}', values: '0x15' },
          ],
          alert_rule_test: [{ eval_time: '10m', alertname: LOG_STALLED_ALERT, exp_alerts: [] }],
        },
      ];
    case SCHEDULED_JOB_ALERT: {
      // One sample a minute: with fewer, Prometheus takes the series as gone between samples.
      const lastSuccess = (cronjob: string, values: string) => ({
        series: `kube_cronjob_status_last_successful_time{namespace="entitle-production",cronjob="${cronjob}"}`,
        values,
      });
      const late = (cronjob: string) => expected(rule, { namespace: 'entitle-production', cronjob });
      return [
        {
          name: `${SCHEDULED_JOB_ALERT}: fires for a daily job that has not succeeded for 27 hours, and only for it`,
          interval: '1m',
          input_series: [
            lastSuccess('entitle-backup', '0x1700'),
            lastSuccess('entitle-audit-verify', '0+60x1700'),
            lastSuccess('entitle-retention-purge', '0+60x1700'),
          ],
          alert_rule_test: [
            { eval_time: '25h', alertname: SCHEDULED_JOB_ALERT, exp_alerts: [] },
            { eval_time: '27h', alertname: SCHEDULED_JOB_ALERT, exp_alerts: [late('entitle-backup')] },
          ],
        },
        {
          name: `${SCHEDULED_JOB_ALERT}: fires for the probe after 20 minutes without a success`,
          interval: '1m',
          input_series: [lastSuccess('entitle-probe', '0x40')],
          alert_rule_test: [
            { eval_time: '15m', alertname: SCHEDULED_JOB_ALERT, exp_alerts: [] },
            { eval_time: '30m', alertname: SCHEDULED_JOB_ALERT, exp_alerts: [late('entitle-probe')] },
          ],
        },
        {
          name: `${SCHEDULED_JOB_ALERT}: quiet while every job succeeds in its period`,
          interval: '1m',
          input_series: [lastSuccess('entitle-probe', '0+60x1900'), lastSuccess('entitle-backup', '0+60x1900')],
          alert_rule_test: [{ eval_time: '30h', alertname: SCHEDULED_JOB_ALERT, exp_alerts: [] }],
        },
        {
          name: `${SCHEDULED_JOB_ALERT}: quiet for a daily job whose last success was 20 hours ago (a failed run since is retried the next night)`,
          interval: '1m',
          input_series: [lastSuccess('entitle-backup', '0x1300')],
          alert_rule_test: [{ eval_time: '20h', alertname: SCHEDULED_JOB_ALERT, exp_alerts: [] }],
        },
      ];
    }
    case EVENT_LOOP_ALERT:
      return [
        {
          name: `${EVENT_LOOP_ALERT}: fires after 5 minutes of lag`,
          interval: '1m',
          input_series: [{ series: 'nodejs_eventloop_lag_p99_seconds{job="entitle",instance="a"}', values: '0.9x15' }],
          alert_rule_test: [
            { eval_time: '10m', alertname: EVENT_LOOP_ALERT, exp_alerts: [expected(rule, { instance: 'a' })] },
          ],
        },
        {
          name: `${EVENT_LOOP_ALERT}: quiet at normal lag`,
          interval: '1m',
          input_series: [{ series: 'nodejs_eventloop_lag_p99_seconds{job="entitle",instance="a"}', values: '0.01x15' }],
          alert_rule_test: [{ eval_time: '10m', alertname: EVENT_LOOP_ALERT, exp_alerts: [] }],
        },
        {
          name: `${EVENT_LOOP_ALERT}: quiet for a short spike`,
          interval: '1m',
          input_series: [
            { series: 'nodejs_eventloop_lag_p99_seconds{job="entitle",instance="a"}', values: '0.01x5 0.9x2 0.01x8' },
          ],
          alert_rule_test: [{ eval_time: '10m', alertname: EVENT_LOOP_ALERT, exp_alerts: [] }],
        },
      ];
    case OVERLOADED_ALERT: {
      const refused = (values: string) => [
        {
          series: 'entitle_admission_rejected_total{job="entitle",instance="a",priority="citizen",reason="queue_full"}',
          values,
        },
      ];
      return [
        {
          name: `${OVERLOADED_ALERT}: fires when citizens are refused for 2 minutes`,
          interval: '1m',
          input_series: refused('0+600x15'),
          alert_rule_test: [{ eval_time: '10m', alertname: OVERLOADED_ALERT, exp_alerts: [expected(rule, {})] }],
        },
        {
          name: `${OVERLOADED_ALERT}: quiet when nobody is refused`,
          interval: '1m',
          input_series: refused('0x15'),
          alert_rule_test: [{ eval_time: '10m', alertname: OVERLOADED_ALERT, exp_alerts: [] }],
        },
        {
          name: `${OVERLOADED_ALERT}: quiet when only batch work is refused`,
          interval: '1m',
          input_series: [
            {
              series:
                'entitle_admission_rejected_total{job="entitle",instance="a",priority="batch",reason="queue_full"}',
              values: '0+600x15',
            },
          ],
          alert_rule_test: [{ eval_time: '10m', alertname: OVERLOADED_ALERT, exp_alerts: [] }],
        },
        {
          name: `${OVERLOADED_ALERT}: quiet for a handful of refusals`,
          interval: '1m',
          input_series: refused('0x5 20x10'),
          alert_rule_test: [{ eval_time: '8m', alertname: OVERLOADED_ALERT, exp_alerts: [] }],
        },
      ];
    }
    case DEGRADED_ALERT: {
      const level = (values: string) => [{ series: 'entitle_degradation_level{job="entitle",instance="a"}', values }];
      return [
        {
          name: `${DEGRADED_ALERT}: fires after 15 minutes degraded`,
          interval: '1m',
          input_series: level('1x25'),
          alert_rule_test: [
            { eval_time: '20m', alertname: DEGRADED_ALERT, exp_alerts: [expected(rule, { instance: 'a' })] },
          ],
        },
        {
          name: `${DEGRADED_ALERT}: quiet for a surge that passes`,
          interval: '1m',
          input_series: level('0x5 3x5 0x15'),
          alert_rule_test: [{ eval_time: '20m', alertname: DEGRADED_ALERT, exp_alerts: [] }],
        },
        {
          name: `${DEGRADED_ALERT}: quiet when nothing is shed`,
          interval: '1m',
          input_series: level('0x25'),
          alert_rule_test: [{ eval_time: '20m', alertname: DEGRADED_ALERT, exp_alerts: [] }],
        },
      ];
    }
    default:
      throw new Error(`no promtool tests are defined for ${rule.alert}: add them to src/ops/rule-tests.ts`);
  }
}

/** One test file per alert name, each referring to the rules file beside its folder. */
export function promtoolTests(groups: readonly RuleGroup[], rulesFile: string): Map<string, PromtoolTestFile> {
  const alerts = groups.flatMap((g) => g.rules.filter((r): r is AlertRule => 'alert' in r));
  const files = new Map<string, PromtoolTestFile>();
  for (const slo of SLOS) {
    const rules = alerts.filter((a) => a.alert === burnAlertName(slo));
    if (rules.length > 0)
      files.set(burnAlertName(slo), {
        rule_files: [rulesFile],
        evaluation_interval: '1m',
        tests: sloTests(slo, rules),
      });
  }
  for (const rule of alerts.filter((a) => !a.labels.tier))
    files.set(rule.alert, { rule_files: [rulesFile], evaluation_interval: '1m', tests: serviceTests(rule) });
  return files;
}
