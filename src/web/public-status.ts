import type { Incident } from '../incidents/index.ts';
import type { Slo } from '../slos/index.ts';

/** What a citizen is told about a journey; text always goes with the colour. */
export type JourneyState = 'working' | 'some-problems' | 'not-working';

export const STATE_TEXT: Readonly<Record<JourneyState, string>> = {
  working: 'Working normally',
  'some-problems': 'Some people may have problems',
  'not-working': 'Not working',
};

/** The public status: nothing internal (no priorities, alerts, titles or people). */
export interface PublicStatus {
  /** When this was read from the database. */
  readonly updatedAt: string;
  readonly journeys: readonly {
    readonly id: string;
    readonly name: string;
    readonly state: JourneyState;
    readonly stateText: string;
  }[];
  /** Messages of open incidents, newest first. */
  readonly messages: readonly { readonly message: string; readonly updatedAt: string }[];
  /** Messages of incidents resolved in the last 7 days, newest first. */
  readonly resolved: readonly { readonly message: string; readonly resolvedAt: string }[];
  /** The newest signed checkpoint of the decision log: how many decisions it holds, and when it was signed. */
  readonly record?: { readonly decisions: number; readonly signedAt: string } | undefined;
}

const RECENT_MS = 7 * 24 * 3600 * 1000;
const RANK: Readonly<Record<JourneyState, number>> = { working: 0, 'some-problems': 1, 'not-working': 2 };

/** A citizen-centred priority as a public state: P3 and P4 have no citizen impact. */
function stateOf(incident: Incident): JourneyState {
  if (incident.priority === 'P1') return 'not-working';
  if (incident.priority === 'P2') return 'some-problems';
  return 'working';
}

/**
 * Each journey's state from the open incidents (the worst one affecting it wins; an incident a
 * person declared naming no journeys affects all), and the citizen messages of open and recently resolved ones.
 */
export function publicStatus(
  slos: readonly Slo[],
  open: readonly Incident[],
  recent: readonly Incident[],
  now: Date,
  record?: { readonly decisions: number; readonly signedAt: string },
): PublicStatus {
  const journeys = slos.map((slo) => {
    let state: JourneyState = 'working';
    for (const incident of open) {
      // An alert that names no journey (metrics missing, say) says nothing about citizens until a
      // person does: it changes the public page once someone sets its journeys.
      if (incident.journeys.length === 0 && incident.source === 'alertmanager') continue;
      if (incident.journeys.length > 0 && !incident.journeys.includes(slo.id)) continue;
      const s = stateOf(incident);
      if (RANK[s] > RANK[state]) state = s;
    }
    return { id: slo.id, name: slo.publicName ?? slo.journey, state, stateText: STATE_TEXT[state] };
  });
  const messages = open
    .filter((i) => i.citizenMessage)
    .map((i) => ({ message: i.citizenMessage!, updatedAt: i.lastUpdateAt }))
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  const since = now.getTime() - RECENT_MS;
  const resolved = recent
    .filter((i) => i.citizenMessage && i.resolvedAt && Date.parse(i.resolvedAt) >= since)
    .map((i) => ({ message: i.citizenMessage!, resolvedAt: i.resolvedAt! }))
    .sort((a, b) => b.resolvedAt.localeCompare(a.resolvedAt));
  return { updatedAt: now.toISOString(), journeys, messages, resolved, ...(record ? { record } : {}) };
}
