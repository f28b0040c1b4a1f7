import { EntitleError } from '../errors/index.ts';
import { samePerson } from '../keys/index.ts';
import { formatLondon } from '../uk-time/index.ts';
import type { Release } from './model.ts';
import { compared, type ReleaseStats } from './stats.ts';

export interface GateSettings {
  /** The largest share of comparisons that may differ unexpectedly: 0.001 is 0.1%. */
  readonly unexpectedRate: number;
  /** The largest share of comparisons in which only the candidate fails. */
  readonly errorRate: number;
  /** Comparisons needed for a verdict; before then only clear evidence (the limit already broken for the whole sample) fails. */
  readonly minSample: number;
  /** The candidate fails when its mean evaluation time exceeds the active's by this factor... */
  readonly latencyRatio: number;
  /** ...and by at least this many microseconds (evaluations take microseconds; noise is larger). */
  readonly latencyFloorMicros: number;
  /**
   * The least time a release is compared in shadow before it may be promoted, whatever the
   * number of comparisons: at a peak the minimum sample comes in minutes, before the evening's
   * and the weekend's households are seen (ENTITLE_SHADOW_MIN_MINUTES).
   */
  readonly minShadowMinutes: number;
}

export const DEFAULT_GATES: GateSettings = Object.freeze({
  unexpectedRate: 0.001,
  errorRate: 0.001,
  minSample: 1000,
  latencyRatio: 2,
  latencyFloorMicros: 1000,
  minShadowMinutes: 0,
});

/** The minimum shadow window where ENTITLE_SHADOW_MIN_MINUTES is not set, by environment. */
export const SHADOW_MINUTES_BY_ENVIRONMENT: Readonly<Record<string, number>> = Object.freeze({
  production: 60,
  staging: 15,
  development: 0,
});

/** Where a release stands in its minimum shadow window. */
export interface ShadowWindow {
  readonly minutes: number;
  /** When it first entered shadow; null if it never has. */
  readonly startedAt: string | null;
  readonly endsAt: string | null;
  /** Whole minutes left, rounded up; 0 once over. */
  readonly remainingMinutes: number;
  /**
   * The people whose emergency approvals waive the rest of the window (two are needed, each
   * with a reason, recorded with their approval); empty when it is not waived.
   */
  readonly waivedBy: readonly string[];
}

export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface GateReport {
  readonly verdict: Verdict;
  /** One plain sentence per gate that did not pass (or why the evidence is not enough). */
  readonly reasons: readonly string[];
  readonly compared: number;
  readonly unexpectedRate: number;
  readonly errorRate: number;
}

const pct = (x: number) => `${(100 * x).toFixed(3).replace(/\.?0+$/, '')}%`;

/**
 * Judges a release from its comparisons. It fails as soon as the minimum sample shows
 * unexpected differences, candidate-only errors or slow evaluation above the limits; with fewer
 * comparisons than the minimum, or with the A/A check finding noise, it is inconclusive, which
 * pauses a release rather than promoting it.
 */
export function judge(stats: ReleaseStats, settings: GateSettings = DEFAULT_GATES, window?: ShadowWindow): GateReport {
  const n = compared(stats);
  const unexpectedRate = n === 0 ? 0 : stats.unexpected / n;
  const errorRate = n === 0 ? 0 : stats.candidateError / n;
  const base = { compared: n, unexpectedRate, errorRate };
  if (n < settings.minSample) {
    // Clear evidence needs no full sample: once more comparisons have gone wrong than the limit
    // allows in the whole minimum sample, no later comparison can bring the rate back under it.
    // In a canary those are citizens' decisions, so this fails at once rather than waiting.
    const early: string[] = [];
    if (stats.unexpected > settings.unexpectedRate * settings.minSample) {
      early.push(
        `${stats.unexpected} of ${n} comparisons differ unexpectedly, more than the ${pct(settings.unexpectedRate)} limit allows in the minimum sample of ${settings.minSample}`,
      );
    }
    if (stats.candidateError > settings.errorRate * settings.minSample) {
      early.push(
        `the candidate failed where the active did not in ${stats.candidateError} of ${n} comparisons, more than the ${pct(settings.errorRate)} limit allows in the minimum sample of ${settings.minSample}`,
      );
    }
    if (early.length > 0) return { ...base, verdict: 'fail', reasons: early };
    return {
      ...base,
      verdict: 'inconclusive',
      reasons: [`${n} comparison${n === 1 ? '' : 's'} so far; at least ${settings.minSample} are needed for a verdict`],
    };
  }
  const reasons: string[] = [];
  if (unexpectedRate > settings.unexpectedRate)
    reasons.push(
      `${stats.unexpected} of ${n} comparisons (${pct(unexpectedRate)}) differ unexpectedly; the limit is ${pct(settings.unexpectedRate)}`,
    );
  if (errorRate > settings.errorRate)
    reasons.push(
      `the candidate failed where the active did not in ${stats.candidateError} of ${n} comparisons (${pct(errorRate)}); the limit is ${pct(settings.errorRate)}`,
    );
  if (stats.timed > 0) {
    const active = stats.activeMicros / stats.timed;
    const candidate = stats.candidateMicros / stats.timed;
    if (candidate > active * settings.latencyRatio && candidate - active > settings.latencyFloorMicros) {
      reasons.push(
        `the candidate takes ${Math.round(candidate)} µs per evaluation against ${Math.round(active)} µs for the active`,
      );
    }
  }
  if (reasons.length > 0) return { ...base, verdict: 'fail', reasons };
  // Time is a gate for passing only: a release that fails is rolled back at once.
  if (window && window.remainingMinutes > 0 && window.waivedBy.length === 0) {
    return {
      ...base,
      verdict: 'inconclusive',
      reasons: [
        window.startedAt === null
          ? `the release has not been in shadow: it must be compared for ${window.minutes} minutes first`
          : `the shadow window of ${window.minutes} minutes is not over: ${window.remainingMinutes} minute${window.remainingMinutes === 1 ? '' : 's'} left, until ${formatLondon(window.endsAt!)}`,
      ],
    };
  }
  if (stats.aaDifferent > 0) {
    return {
      ...base,
      verdict: 'inconclusive',
      reasons: [
        `the A/A check (the active against itself) found ${stats.aaDifferent} difference(s): comparisons are not reliable until that is explained`,
      ],
    };
  }
  return { ...base, verdict: 'pass', reasons: [] };
}

/** Gate settings from the environment (ENTITLE_RELEASE_*), for the service and the commands. */
export function gateSettingsFrom(env: NodeJS.ProcessEnv): GateSettings {
  const number = (name: string, fallback: number) => {
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0)
      throw new EntitleError('ENTITLE_INPUT_INVALID', `${name} is not valid`, [
        { field: name, message: 'enter a number of 0 or more' },
      ]);
    return n;
  };
  return {
    unexpectedRate: number('ENTITLE_RELEASE_UNEXPECTED_RATE', DEFAULT_GATES.unexpectedRate),
    errorRate: number('ENTITLE_RELEASE_ERROR_RATE', DEFAULT_GATES.errorRate),
    minSample: number('ENTITLE_RELEASE_MIN_SAMPLE', DEFAULT_GATES.minSample),
    latencyRatio: number('ENTITLE_RELEASE_LATENCY_RATIO', DEFAULT_GATES.latencyRatio),
    latencyFloorMicros: number('ENTITLE_RELEASE_LATENCY_FLOOR_MICROS', DEFAULT_GATES.latencyFloorMicros),
    minShadowMinutes: number(
      'ENTITLE_SHADOW_MIN_MINUTES',
      SHADOW_MINUTES_BY_ENVIRONMENT[env.ENTITLE_ENVIRONMENT ?? 'development'] ?? DEFAULT_GATES.minShadowMinutes,
    ),
  };
}

/**
 * A release's minimum shadow window at `now`. Two emergency approvals by two different people
 * waive what is left of it: an emergency release, shortened by two people with their reasons.
 */
export function shadowWindowOf(release: Release, settings: GateSettings, now: Date): ShadowWindow {
  const minutes = settings.minShadowMinutes;
  const waivers: string[] = [];
  for (const a of release.approvals)
    if (a.kind === 'emergency' && !waivers.some((w) => samePerson(w, a.approver))) waivers.push(a.approver);
  const waivedBy = waivers.length >= 2 ? waivers : [];
  if (release.shadowStartedAt === null)
    return { minutes, startedAt: null, endsAt: null, remainingMinutes: minutes, waivedBy };
  const ends = Date.parse(release.shadowStartedAt) + minutes * 60_000;
  return {
    minutes,
    startedAt: release.shadowStartedAt,
    endsAt: new Date(ends).toISOString(),
    remainingMinutes: Math.max(0, Math.ceil((ends - now.getTime()) / 60_000)),
    waivedBy,
  };
}
