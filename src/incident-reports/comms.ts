import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import { EntitleError } from '../errors/index.ts';
import { PRIORITY_DEFINITIONS, type Incident, type IncidentEntry } from '../incidents/index.ts';
import { ukTimeText } from '../uk-time/index.ts';
import type { Impact } from './impact.ts';
import { impactWindow } from './impact.ts';

export const AUDIENCES = ['citizens', 'stakeholders', 'caseworkers', 'resolution'] as const;
export type Audience = (typeof AUDIENCES)[number];

export const TEMPLATES_DIR = fileURLToPath(new URL('../../communications/', import.meta.url));

// Plain text: nothing is escaped; the templates control their own whitespace with {%- and -%}.
const templates = new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATES_DIR, { noCache: true }), {
  autoescape: false,
  throwOnUndefined: false,
});

/** "Universal Credit" from universal-credit; "Universal Credit and Child Benefit" for two. */
export function benefitsText(benefits: readonly string[]): string {
  const names = benefits.map((b) =>
    b
      .split('-')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join(' '),
  );
  if (names.length === 0) return 'your benefit';
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/** Which kinds of journey the incident touches, for the templates' wording. */
function journeyFlags(incident: Incident): { notWorking: boolean; slow: boolean; consistency: boolean } {
  const all = incident.journeys.length === 0;
  const has = (id: string) => incident.journeys.includes(id);
  return {
    notWorking:
      (all && (incident.priority === 'P1' || incident.priority === 'P2')) ||
      has('assessment_availability') ||
      has('decisions_recorded'),
    slow: has('assessment_latency'),
    consistency: has('decisions_consistent') || has('bad_release_undone_quickly') || incident.releaseIds.length > 0,
  };
}

/** The version a template declares in its first comment (`{#- version: N`). */
export function templateVersion(audience: Audience): string {
  const text = readFileSync(`${TEMPLATES_DIR}${audience}.njk`, 'utf8');
  return /version:\s*(\S+)/.exec(text)?.[1] ?? 'unversioned';
}

export interface FilledMessage {
  readonly audience: Audience;
  readonly template: string;
  readonly version: string;
  readonly text: string;
}

/**
 * Fills a communication template from the incident, its latest update and its computed impact.
 * Citizens get the resolution notice once the incident is resolved.
 */
export function fillTemplate(
  audience: Audience,
  incident: Incident,
  entries: readonly IncidentEntry[],
  impact: Impact | null,
  now: Date = new Date(),
): FilledMessage {
  if (!(AUDIENCES as readonly string[]).includes(audience)) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `unknown audience ${String(audience).slice(0, 40)}`, [
      { field: '--audience', message: `give one of: ${AUDIENCES.join(', ')}` },
    ]);
  }
  const chosen: Audience = audience === 'citizens' && incident.resolvedAt ? 'resolution' : audience;
  const window = impactWindow(incident, now);
  const lead = incident.roles.find((r) => r.role === 'incident-lead')?.person ?? 'not yet assigned';
  const commsLead = incident.roles.find((r) => r.role === 'communications-lead')?.person ?? 'not yet assigned';
  const latest = [...entries].reverse().find((e) => e.kind === 'update' || e.kind === 'declared');
  const every = PRIORITY_DEFINITIONS[incident.priority].updateEveryMinutes;
  const flags = journeyFlags(incident);
  const benefits = benefitsText(incident.benefits);
  const staffBenefits = incident.benefits.length === 0 ? 'any benefit' : benefits;
  const problemText = flags.notWorking
    ? `some citizens cannot get a decision about ${staffBenefits}.`
    : flags.slow
      ? `decisions about ${staffBenefits} are taking longer than usual.`
      : flags.consistency
        ? `some decisions about ${staffBenefits} are being checked because they may be wrong.`
        : `some citizens may have problems getting a decision about ${staffBenefits}.`;
  const text = templates.render(`${chosen}.njk`, {
    incident,
    impact,
    journeys: flags,
    benefitsText: benefits,
    // For staff, an incident naming no benefit affects them all.
    benefitsAffected: incident.benefits.length === 0 ? 'all benefits' : benefits,
    benefitNoun: incident.benefits.length === 0 ? 'a benefit' : benefits,
    problemText,
    priorityMeaning: PRIORITY_DEFINITIONS[incident.priority].meaning,
    window: { ...window, fromText: ukTimeText(window.from), toText: ukTimeText(window.to) },
    latestUpdate: latest?.text ?? 'Investigating.',
    lead,
    commsLead,
    nextUpdateText:
      every && !incident.resolvedAt
        ? ukTimeText(new Date(Date.parse(incident.lastUpdateAt) + every * 60_000).toISOString())
        : null,
  });
  return {
    audience: chosen,
    template: `communications/${chosen}.njk`,
    version: templateVersion(chosen),
    text: `${text.trim().replace(/\n{3,}/g, '\n\n')}\n`,
  };
}
