import { networkReason, Probe } from './probe.ts';

export interface SmokeStep {
  readonly step: 'health' | 'ready' | 'metrics' | 'assess' | 'fetch' | 'replay';
  readonly ok: boolean;
  readonly seconds: number | null;
  /** Why it failed, in plain words (never a response body: it could hold data). */
  readonly reason?: string;
}

export interface SmokeReport {
  readonly ok: boolean;
  readonly url: string;
  readonly seconds: number;
  readonly steps: readonly SmokeStep[];
}

/**
 * The smoke test a deploy must pass: every citizen journey against the deployed service, within a
 * deadline (60 s). Liveness, readiness and metrics, then the probe's synthetic household assessed,
 * its decision fetched and replayed (PROBE-SYNTHETIC- references: never a citizen's). Every step
 * runs and is reported, so one failure does not hide another.
 */
export async function smoke(url: string, key: string, deadlineMs = 60_000): Promise<SmokeReport> {
  const started = performance.now();
  const left = () => Math.max(1, deadlineMs - (performance.now() - started));
  const steps: SmokeStep[] = [];
  const get = async (
    step: 'health' | 'ready' | 'metrics',
    path: string,
    check: (status: number, text: string) => string | undefined,
  ) => {
    const began = performance.now();
    try {
      const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(Math.min(10_000, left())) });
      const reason = check(response.status, await response.text());
      steps.push({
        step,
        ok: reason === undefined,
        seconds: (performance.now() - began) / 1000,
        ...(reason ? { reason } : {}),
      });
    } catch (error) {
      steps.push({ step, ok: false, seconds: null, reason: `no answer (${networkReason(error)})` });
    }
  };
  await get('health', '/health', (status) => (status === 200 ? undefined : `answered ${status}`));
  await get('ready', '/ready', (status, text) =>
    status === 200 ? undefined : `answered ${status}: not ready (${notReady(text)})`,
  );
  await get('metrics', '/metrics', (status, text) =>
    status !== 200
      ? `answered ${status}`
      : /^entitle_http_request_duration_seconds_count/m.test(text) || /^# HELP entitle_/m.test(text)
        ? undefined
        : 'no Entitle metrics in the answer',
  );
  const journey = await new Probe(url, key, Math.min(10_000, left())).run();
  for (const step of ['assess', 'fetch', 'replay'] as const) {
    const seconds = journey.seconds[step] ?? null;
    if (journey.failure?.step === step) steps.push({ step, ok: false, seconds, reason: journey.failure.reason });
    else if (seconds !== null) steps.push({ step, ok: true, seconds });
    else steps.push({ step, ok: false, seconds: null, reason: 'not run: an earlier step failed' });
  }
  const seconds = (performance.now() - started) / 1000;
  const late = seconds * 1000 > deadlineMs;
  return { ok: !late && steps.every((s) => s.ok), url, seconds, steps };
}

/** Which readiness checks failed, from /ready's JSON. */
function notReady(text: string): string {
  try {
    const checks = (JSON.parse(text) as { checks?: Record<string, boolean> }).checks ?? {};
    const failed = Object.entries(checks)
      .filter(([, ok]) => !ok)
      .map(([name]) => name);
    return failed.length > 0 ? `${failed.join(', ')} failing` : 'no checks given';
  } catch {
    return 'its answer was not the expected JSON';
  }
}

export function formatSmoke(report: SmokeReport): string {
  const lines = [
    `${report.ok ? 'PASSED' : 'FAILED'}  smoke test of ${report.url} in ${report.seconds.toFixed(1)} s${report.seconds > 60 ? ' (over the 60 s allowed)' : ''}`,
  ];
  for (const s of report.steps)
    lines.push(
      `  ${s.ok ? 'ok    ' : 'FAILED'} ${s.step.padEnd(8)} ${s.seconds === null ? '' : `${Math.round(s.seconds * 1000)} ms`}${s.reason ? `  ${s.reason}` : ''}`,
    );
  return `${lines.join('\n')}\n`;
}
