import { AnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1';
import { DEFAULT_GATES } from '../releases/index.ts';
import { SLOS, type Slo } from '../slos/index.ts';

/**
 * What judges a canary: the same service-level indicators the burn-rate alerts use (src/slos),
 * scoped to the canary's pods, so a release is held to the promises made to citizens. Prometheus
 * labels each series with the pod's `rollouts-pod-template-hash` (docs/deploying.md shows the
 * relabelling), which Argo Rollouts passes to the analysis as `canary-hash`.
 */

/** The selector that picks out the canary's series. */
export const CANARY_SCOPE = 'namespace="{{args.namespace}}",rollouts_pod_template_hash="{{args.canary-hash}}"';

/** How far back each measurement looks: long enough to hold several scrapes of a small canary. */
export const ANALYSIS_WINDOW = '2m';

/** The assessment latency promise (the assessment_latency SLO: answered within 500 ms). */
export const P99_LATENCY_SECONDS = 0.5;

function slo(id: string): Slo {
  const found = SLOS.find((s) => s.id === id);
  if (!found) throw new Error(`no SLO ${id}`);
  return found;
}

/** Puts `scope` into every selector of an SLI expression (each is followed by its range, `[$w]`). */
export function scoped(expression: string, scope: string, window: string): string {
  return expression
    .replace(
      /(entitle_[a-z0-9_]+)(?:\{([^}]*)\})?(?=\[\$w\])/g,
      (_all, metric: string, inner?: string) => `${metric}{${scope}${inner ? `,${inner}` : ''}}`,
    )
    .replaceAll('$w', window);
}

/** The share of an SLO's events that were bad, on the canary only; no events at all gives no result. */
function badRatio(id: string): string {
  const s = slo(id);
  return `(${scoped(s.bad, CANARY_SCOPE, ANALYSIS_WINDOW)} or vector(0)) / ${scoped(s.total, CANARY_SCOPE, ANALYSIS_WINDOW)}`;
}

export interface CanaryMetric {
  readonly name: string;
  readonly query: string;
  /** The largest value that passes. */
  readonly limit: number;
  /** Failed measurements tolerated before the rollout is aborted. */
  readonly failureLimit: number;
  readonly why: string;
}

export const CANARY_METRICS: readonly CanaryMetric[] = [
  {
    name: 'error-ratio',
    query: badRatio('assessment_availability'),
    limit: DEFAULT_GATES.errorRate,
    failureLimit: 1,
    why: 'Assessments answered with a server error (5xx), as a share of all assessments: the assessment_availability SLO.',
  },
  {
    name: 'p99-latency',
    query: `histogram_quantile(0.99, sum by (le) (rate(entitle_http_request_duration_seconds_bucket{${CANARY_SCOPE},route="/v1/assessments"}[${ANALYSIS_WINDOW}])))`,
    limit: P99_LATENCY_SECONDS,
    failureLimit: 1,
    why: 'The 99th percentile of assessment latency, in seconds: the assessment_latency SLO promises 500 ms.',
  },
  {
    name: 'unexpected-decision-differences',
    query: badRatio('decisions_consistent'),
    limit: DEFAULT_GATES.unexpectedRate,
    // A wrong decision is the worst outcome: the first failed measurement aborts.
    failureLimit: 0,
    why: "Release comparisons that differ unexpectedly or fail only under the candidate, and replays that do not reproduce the recorded decision (the canary's own background replays among them: a build that decides differently with the same rules), as a share of all (0.1%): the decisions_consistent SLO.",
  },
];

export const ANALYSIS_TEMPLATE = 'entitle-canary-analysis';
export const SMOKE_TEMPLATE = 'entitle-canary-smoke';

/** The analysis that runs in the background from the first canary step until promotion. */
export function canaryAnalysisTemplate(prometheusAddress: string): AnalysisTemplate {
  return new AnalysisTemplate({
    metadata: {
      name: ANALYSIS_TEMPLATE,
      annotations: {
        'entitle.service.gov.uk/what':
          'Judges a canary by the SLIs of src/slos on its pods; a failure aborts the rollout and traffic returns to the stable version.',
      },
    },
    spec: {
      args: [{ name: 'canary-hash' }, { name: 'namespace' }],
      metrics: CANARY_METRICS.map((m) => ({
        name: m.name,
        interval: '1m',
        // Two scrapes of the canary before the first measurement.
        initialDelay: '1m',
        failureLimit: m.failureLimit,
        inconclusiveLimit: 2,
        // No result (no canary traffic, or Prometheus not labelling series by pod template hash)
        // is inconclusive, never a pass: after three, Argo Rollouts pauses for a person.
        successCondition: `len(result) > 0 && !isNaN(result[0]) && result[0] <= ${m.limit}`,
        failureCondition: `len(result) > 0 && !isNaN(result[0]) && result[0] > ${m.limit}`,
        provider: { prometheus: { address: prometheusAddress, query: m.query, timeout: 10 } },
      })),
    },
  });
}
