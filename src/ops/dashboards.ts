import {
  DashboardBuilder,
  DatasourceVariableBuilder,
  RowBuilder,
  type Dashboard,
  type DataSourceRef,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { budget, SLOS } from '../slos/index.ts';

export const DASHBOARD_FILE = 'deploy/grafana/entitle-citizen-journeys.json';

/** Every panel reads from the Prometheus chosen in the dashboard's data-source picker. */
const DATASOURCE: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

const query = (expr: string, legend: string, refId = 'A') =>
  new DataqueryBuilder().expr(expr).legendFormat(legend).refId(refId).datasource(DATASOURCE);
const ASSESS = 'route="/v1/assessments"';

/**
 * The on-call dashboard, citizen impact first: are citizens getting decisions, how much of each
 * journey's error budget is left, how fast are they answered; then the rules in force and releases
 * under test; then the records. Built with Grafana's typed models, not string templates.
 */
export function citizenDashboard(): Dashboard {
  const dashboard = new DashboardBuilder('Entitle: citizen journeys')
    .uid('entitle-citizen-journeys')
    .tags(['entitle', 'slo'])
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'))
    .withRow(new RowBuilder('Are citizens getting decisions?'))
    .withPanel(
      new StatBuilder()
        .title('Assessments completed a minute')
        .description('Decisions recorded and returned (entitled or not), over the last 5 minutes.')
        .datasource(DATASOURCE)
        .withTarget(
          query('sum(rate(entitle_assessments_total{outcome=~"entitled|not_entitled"}[5m])) * 60', 'completed'),
        )
        .unit('short')
        .span(6)
        .height(4),
    )
    .withPanel(
      new StatBuilder()
        .title('Assessments failed a minute')
        .description(
          'Assessment requests answered with a server error (citizens told to try again), over the last 5 minutes.',
        )
        .datasource(DATASOURCE)
        .withTarget(
          query(
            `sum(rate(entitle_http_request_duration_seconds_count{${ASSESS},status=~"5.."}[5m])) * 60 or vector(0)`,
            'failed',
          ),
        )
        .unit('short')
        .span(6)
        .height(4),
    );
  for (const slo of SLOS) {
    dashboard.withPanel(
      new StatBuilder()
        .title(`Budget left: ${slo.journey}`)
        .description(`${slo.objectiveText}. 100% is untouched; below 0% the objective is missed.`)
        .datasource(DATASOURCE)
        .withTarget(
          query(
            `1 - ((${slo.bad.replaceAll('$w', `${slo.periodDays}d`)}) / (${slo.total.replaceAll('$w', `${slo.periodDays}d`)})) / ${Number(budget(slo).toPrecision(6))}`,
            'budget left',
          ),
        )
        .unit('percentunit')
        .decimals(1)
        .span(6)
        .height(4),
    );
  }
  dashboard
    .withPanel(
      new TimeseriesBuilder()
        .title('Assessments per minute')
        .datasource(DATASOURCE)
        .withTarget(
          query('sum(rate(entitle_assessments_total{outcome=~"entitled|not_entitled"}[1m])) * 60', 'completed', 'A'),
        )
        .withTarget(
          query(
            `sum(rate(entitle_http_request_duration_seconds_count{${ASSESS},status=~"5.."}[1m])) * 60`,
            'failed (5xx)',
            'B',
          ),
        )
        .withTarget(
          query(
            'sum by (outcome) (rate(entitle_assessments_total{outcome=~"invalid_input|cannot_assess"}[1m])) * 60',
            '{{outcome}}',
            'C',
          ),
        )
        .unit('short')
        .span(24)
        .height(8),
    )
    .withRow(new RowBuilder('How fast?'))
    .withPanel(
      new TimeseriesBuilder()
        .title('Assessment latency')
        .description(
          'Percentiles of the time to answer an assessment, including the durable commit. The objective: 99% within 500 ms.',
        )
        .datasource(DATASOURCE)
        .withTarget(
          query(
            `histogram_quantile(0.5, sum by (le) (rate(entitle_http_request_duration_seconds_bucket{${ASSESS}}[5m])))`,
            'p50',
            'A',
          ),
        )
        .withTarget(
          query(
            `histogram_quantile(0.95, sum by (le) (rate(entitle_http_request_duration_seconds_bucket{${ASSESS}}[5m])))`,
            'p95',
            'B',
          ),
        )
        .withTarget(
          query(
            `histogram_quantile(0.99, sum by (le) (rate(entitle_http_request_duration_seconds_bucket{${ASSESS}}[5m])))`,
            'p99',
            'C',
          ),
        )
        .unit('s')
        .span(24)
        .height(8),
    )
    .withRow(new RowBuilder('Which rules decide?'))
    .withPanel(
      new StatBuilder()
        .title('Active rule-set version per benefit')
        .description(
          'Instances serving each version; more than one version for a benefit means a promotion or rollback has not reached every instance.',
        )
        .datasource(DATASOURCE)
        .withTarget(
          query('count by (benefit, ruleset) (entitle_ruleset_served{role="active"})', '{{benefit}} {{ruleset}}'),
        )
        .span(12)
        .height(6),
    )
    .withPanel(
      new TimeseriesBuilder()
        .title('Releases under test: share of comparisons by kind')
        .description('Unexpected differences above 0.1% roll a release back on its own.')
        .datasource(DATASOURCE)
        .withTarget(
          query(
            'sum by (release, kind) (rate(entitle_release_comparisons_total{kind!="identical"}[5m])) / ignoring(kind) group_left sum by (release) (rate(entitle_release_comparisons_total[5m]))',
            '{{release}} {{kind}}',
          ),
        )
        .unit('percentunit')
        .span(12)
        .height(6),
    )
    .withRow(new RowBuilder('Are decisions recorded?'))
    .withPanel(
      new TimeseriesBuilder()
        .title('Decision write latency')
        .description('Time to commit one group of decisions to the hash chain; every answer waits for its own commit.')
        .datasource(DATASOURCE)
        .withTarget(
          query('histogram_quantile(0.99, sum by (le) (rate(entitle_decision_write_seconds_bucket[5m])))', 'p99', 'A'),
        )
        .withTarget(
          query('histogram_quantile(0.5, sum by (le) (rate(entitle_decision_write_seconds_bucket[5m])))', 'p50', 'B'),
        )
        .unit('s')
        .span(12)
        .height(6),
    )
    .withPanel(
      new TimeseriesBuilder()
        .title('Decision write failures a minute')
        .datasource(DATASOURCE)
        .withTarget(query('sum(rate(entitle_decision_write_failures_total[1m])) * 60', 'failed writes'))
        .unit('short')
        .span(12)
        .height(6),
    );
  return dashboard.build();
}
