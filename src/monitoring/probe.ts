import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Synthetic journeys: what a citizen's front end and a caseworker do, run against a live service
 * on a schedule, so a broken journey is seen before a citizen meets it. The household is synthetic
 * and marked: its application reference starts PROBE-SYNTHETIC-, so its decisions (which are real
 * records in the chain) can always be told apart from citizens'.
 */
export const PROBE_PREFIX = 'PROBE-SYNTHETIC-';

/** A single adult of 30 with no income on 1 June 2025: the 2025/26 standard allowance, £400.14. */
export const PROBE_EXPECTED_PENCE = 40014;

/** That household: also the golden case every rule-set variant in the release tests must pass. */
export const SINGLE_ADULT_NO_INCOME = Object.freeze({
  adults: [
    {
      dateOfBirth: '1995-03-01',
      monthlyNetEarnings: 0,
      limitedCapabilityForWorkRelatedActivity: false,
      lcwraProtected: false,
      carer: false,
    },
  ],
  children: [],
  monthlyEligibleHousingCosts: 0,
  nonDependants: 0,
  monthlyChildcareCosts: 0,
  capital: 0,
  monthlyUnearnedIncome: 0,
  livesInGreaterLondon: false,
});

function probeHousehold(n: number) {
  return {
    benefit: 'universal-credit',
    applicationId: `${PROBE_PREFIX}${n}`,
    assessmentDate: '2025-06-01',
    household: SINGLE_ADULT_NO_INCOME,
  };
}

export interface JourneyResult {
  readonly ok: boolean;
  /** The step that failed, and why, in plain words (never a response body: it could hold data). */
  readonly failure?: { readonly step: 'assess' | 'fetch' | 'replay'; readonly reason: string };
  readonly seconds: Readonly<Partial<Record<'assess' | 'fetch' | 'replay', number>>>;
  readonly decisionId?: string;
}

export class Probe {
  readonly registry = new Registry();
  private readonly journeys = new Counter({
    name: 'entitle_probe_journeys_total',
    help: 'Synthetic journeys run against the service, by result (ok, or the step that failed).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly steps = new Histogram({
    name: 'entitle_probe_step_seconds',
    help: 'Time of each step of the synthetic journey: assess, fetch, replay.',
    labelNames: ['step'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly lastSuccess = new Gauge({
    name: 'entitle_probe_last_success_timestamp_seconds',
    help: 'When a synthetic journey last succeeded (Unix seconds).',
    registers: [this.registry],
  });
  private n = 0;

  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Assess the probe household, fetch its decision, replay it: each must give what it should. */
  async run(): Promise<JourneyResult> {
    const seconds: Partial<Record<'assess' | 'fetch' | 'replay', number>> = {};
    const fail = (step: 'assess' | 'fetch' | 'replay', reason: string): JourneyResult => {
      this.journeys.inc({ result: `${step}_failed` });
      return { ok: false, failure: { step, reason }, seconds };
    };
    const call = async (
      step: 'assess' | 'fetch' | 'replay',
      method: string,
      path: string,
      body?: unknown,
    ): Promise<{ status: number; json: Record<string, unknown>; error?: string }> => {
      const started = performance.now();
      try {
        const response = await fetch(`${this.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${this.key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
        return { status: response.status, json };
      } catch (error) {
        return { status: 0, json: {}, error: networkReason(error) };
      } finally {
        seconds[step] = (performance.now() - started) / 1000;
        this.steps.observe({ step }, seconds[step]);
      }
    };

    this.n += 1;
    const assessed = await call('assess', 'POST', '/v1/assessments', probeHousehold(this.n));
    if (assessed.status !== 201)
      return fail(
        'assess',
        assessed.error
          ? `no answer (${assessed.error})`
          : `answered ${assessed.status}${typeof assessed.json.code === 'string' ? ` ${assessed.json.code}` : ''}`,
      );
    const amount = (assessed.json.outcome as { amount?: number } | undefined)?.amount;
    if (amount === undefined || Math.round(amount * 100) !== PROBE_EXPECTED_PENCE)
      return fail('assess', `the award was not the expected £400.14: a wrong decision`);
    const decisionId = String(assessed.json.decisionId);
    const fetched = await call('fetch', 'GET', `/v1/decisions/${decisionId}`);
    if (fetched.status !== 200 || fetched.json.decisionId !== decisionId)
      return fail('fetch', fetched.error ? `no answer (${fetched.error})` : `answered ${fetched.status}`);
    const replayed = await call('replay', 'POST', `/v1/decisions/${decisionId}/replay`);
    if (replayed.status !== 200 || replayed.json.match !== true)
      return fail(
        'replay',
        replayed.error
          ? `no answer (${replayed.error})`
          : replayed.status === 200
            ? 'the replay did not match the recorded decision'
            : `answered ${replayed.status}`,
      );
    this.journeys.inc({ result: 'ok' });
    this.lastSuccess.set(Date.now() / 1000);
    return { ok: true, seconds, decisionId };
  }
}

/** Why a request got no answer, in the words of the network (ECONNREFUSED, a timeout), never a URL or body. */
export function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code === 'ECONNREFUSED' ? 'connection refused' : cause.code;
  return (error as Error).name === 'TimeoutError' ? 'timed out' : (error as Error).name;
}
