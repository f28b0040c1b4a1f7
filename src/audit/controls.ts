import { isDeepStrictEqual } from 'node:util';
import type { Queryable } from '../store/index.ts';
import { personHandle } from '../people/index.ts';
import { dutyReviews } from './duties.ts';

/*
 * The controls of the service live in ordinary tables: who wrote a release and who approved it,
 * what state it is in, which rule set decides each benefit, the value of every flag, the
 * environment the service believes it runs in, and the API keys with their roles. Each change to
 * them is made in the same transaction as an event in the audit log, which is hash-chained and
 * checkpointed. This replays the events and compares what they say with what the tables hold:
 * a row changed by SQL, without its event, is named here.
 *
 * It reads the tables with SQL of its own, not through the folders that own them, so it stays
 * below them (releases, flags and keys all write audit events).
 */

interface EventRow {
  seq: number;
  actor: string;
  action: string;
  subject: string;
  reason: string;
  evidence: Record<string, unknown>;
}

export interface ControlsReport {
  readonly ok: boolean;
  /** Approvals for a person to look at, which do not make the report fail (duties.ts). */
  readonly reviews: readonly string[];
  /** What was compared, by kind: releases, approvals, benefits, flags, keys, environment. */
  readonly checked: Readonly<Record<string, number>>;
  readonly problems: readonly string[];
}

interface ReleaseFacts {
  author?: string;
  benefit?: string;
  ruleset?: string;
  summary?: string;
  state: string;
  canaryBasisPoints?: number;
  shadowSharePpm?: number;
  /** The version it is compared with, and a rollback returns to. */
  baseline?: string;
}

interface KeyFacts {
  name: string;
  roles: string[];
  keyHash: string;
  revoked: boolean;
  /** The holder's handle; none for a key made before keys belonged to people. */
  person: string | null;
  /** When it stops working, as made or as a rotation set it; null: never. */
  expiresAt: string | null;
}

/** Compares the control tables with the audit events that made them. */
export async function verifyControls(db: Queryable): Promise<ControlsReport> {
  const { rows: events } = await db.query<EventRow>(
    'SELECT seq, actor, action, subject, reason, evidence FROM audit_events ORDER BY seq',
  );
  const releases = new Map<string, ReleaseFacts>();
  const approvals = new Set<string>();
  const active = new Map<string, { hash: string; release: string | null }>();
  const flags = new Map<string, { enabled: unknown; rolloutBasisPoints: unknown }>();
  const keys = new Map<string, KeyFacts>();
  let keysAdopted = false;
  let environment: string | undefined;
  const seededTwice: string[] = [];
  let lastReinstated: { release: string; rolledBack: unknown } | undefined;

  for (const e of events) {
    const ev = e.evidence ?? {};
    if (e.action === 'release.created') {
      const ruleset = ev.ruleset as { hash?: string } | undefined;
      releases.set(e.subject, {
        author: e.actor,
        benefit: String(ev.benefit),
        ruleset: ruleset?.hash,
        summary: e.reason,
        state: 'draft',
      });
    } else if (e.action === 'release.approved' || e.action === 'release.emergency_approved') {
      approvals.add(`${e.subject}|${e.action === 'release.approved' ? 'promotion' : 'emergency'}|${e.actor}`);
    } else if (e.action === 'release.reinstated') {
      const facts = releases.get(e.subject);
      if (facts?.state === 'superseded') facts.state = 'active';
      lastReinstated = { release: e.subject, rolledBack: ev.rolledBack };
    } else if (e.action === 'release.rebased') {
      const facts = releases.get(e.subject);
      if (facts && typeof ev.baseline === 'string') facts.baseline = ev.baseline;
    } else if (e.action === 'ruleset.first_active') {
      // Seeded once per benefit: a second seeding means its pointer row was deleted, and the
      // service started from the files again without a release.
      if (active.has(e.subject)) seededTwice.push(`the active rule set of ${e.subject}`);
      active.set(e.subject, { hash: String((ev.ruleset as { hash?: string })?.hash), release: null });
    } else if (e.action.startsWith('release.') && typeof ev.to === 'string') {
      const facts = releases.get(e.subject) ?? { state: 'draft' };
      facts.state = ev.to;
      if (ev.to === 'canary' && typeof ev.percent === 'number') facts.canaryBasisPoints = Math.round(ev.percent * 100);
      if (ev.to === 'shadow' && typeof ev.sharePercent === 'number')
        facts.shadowSharePpm = Math.round(ev.sharePercent * 10_000);
      if (ev.to === 'shadow' && typeof ev.baseline === 'string') facts.baseline = ev.baseline;
      releases.set(e.subject, facts);
      if (ev.to === 'active' && e.action === 'release.active')
        active.set(String(ev.benefit), { hash: String(ev.ruleset), release: e.subject });
      if (ev.to === 'rolled-back' && typeof ev.returnedTo === 'string') {
        const reinstated = lastReinstated?.rolledBack === e.subject ? lastReinstated.release : null;
        active.set(String(ev.benefit), { hash: ev.returnedTo, release: reinstated });
      }
    } else if (e.action === 'flag.created' && flags.has(e.subject.replace(/^flag:/, ''))) {
      seededTwice.push(`flag ${e.subject.replace(/^flag:/, '')}`);
      const after = ev.after as { enabled?: unknown; rolloutBasisPoints?: unknown } | undefined;
      if (after)
        flags.set(e.subject.replace(/^flag:/, ''), {
          enabled: after.enabled,
          rolloutBasisPoints: after.rolloutBasisPoints,
        });
    } else if (e.action === 'flag.created' || e.action === 'flag.changed') {
      const after = ev.after as { enabled?: unknown; rolloutBasisPoints?: unknown } | undefined;
      if (after)
        flags.set(e.subject.replace(/^flag:/, ''), {
          enabled: after.enabled,
          rolloutBasisPoints: after.rolloutBasisPoints,
        });
    } else if (e.action === 'service.environment_recorded') {
      environment = String(ev.to);
    } else if (e.action === 'keys.adopted') {
      keysAdopted = true;
      for (const k of (ev.keys as (KeyFacts & { id: string })[] | undefined) ?? [])
        keys.set(k.id, {
          name: k.name,
          roles: k.roles,
          keyHash: k.keyHash,
          revoked: k.revoked,
          person: null,
          expiresAt: null,
        });
    } else if (e.action === 'key.created') {
      keys.set(e.subject.replace(/^key:/, ''), {
        name: String(ev.name),
        roles: ev.roles as string[],
        keyHash: String(ev.keyHash),
        revoked: false,
        person: typeof ev.person === 'string' ? ev.person : null,
        expiresAt: typeof ev.expiresAt === 'string' ? ev.expiresAt : null,
      });
    } else if (e.action === 'key.expiry_set') {
      const k = keys.get(e.subject.replace(/^key:/, ''));
      if (k && typeof ev.expiresAt === 'string') k.expiresAt = ev.expiresAt;
    } else if (e.action === 'key.holder_assigned') {
      const k = keys.get(e.subject.replace(/^key:/, ''));
      if (k && k.person === null && typeof ev.person === 'string') k.person = ev.person;
    } else if (e.action === 'key.revoked') {
      const k = keys.get(e.subject.replace(/^key:/, ''));
      if (k) k.revoked = true;
    }
  }

  const problems: string[] = [];
  const checked: Record<string, number> = {};

  const releaseRows = await db.query<{
    id: string;
    benefit: string;
    ruleset_hash: string;
    author: string;
    summary: string;
    state: string;
    canary_basis_points: number;
    shadow_share_ppm: number;
    baseline_hash: string | null;
  }>(
    'SELECT id, benefit, ruleset_hash, author, summary, state, canary_basis_points, shadow_share_ppm, baseline_hash FROM releases ORDER BY id',
  );
  checked.releases = releaseRows.rows.length;
  const seen = new Set<string>();
  for (const row of releaseRows.rows) {
    seen.add(row.id);
    const facts = releases.get(row.id);
    if (!facts?.author) {
      problems.push(`release ${row.id} has no "release.created" event: the row was inserted by hand`);
      continue;
    }
    const differs = (what: string, stored: unknown, recorded: unknown) => {
      if (stored !== recorded)
        problems.push(
          `release ${row.id}: its ${what} is "${String(stored)}" but the audit log records "${String(recorded)}"`,
        );
    };
    differs('author', row.author, facts.author);
    differs('benefit', row.benefit, facts.benefit);
    differs('rule set', row.ruleset_hash, facts.ruleset);
    differs('summary', row.summary, facts.summary);
    differs('state', row.state, facts.state);
    if (row.state === 'canary' && facts.canaryBasisPoints !== undefined)
      differs('canary share (basis points)', Number(row.canary_basis_points), facts.canaryBasisPoints);
    if (facts.shadowSharePpm !== undefined)
      differs('shadow share (parts per million)', Number(row.shadow_share_ppm), facts.shadowSharePpm);
    if (facts.baseline !== undefined)
      differs('baseline (the version a rollback returns to)', row.baseline_hash, facts.baseline);
  }
  for (const [id, facts] of releases)
    if (facts.author && !seen.has(id)) problems.push(`release ${id} is in the audit log but its row was deleted`);

  const approvalRows = await db.query<{ release_id: string; kind: string; approver: string }>(
    'SELECT release_id, kind, approver FROM release_approvals ORDER BY release_id, kind, approver',
  );
  checked.approvals = approvalRows.rows.length;
  const approvalSeen = new Set<string>();
  for (const row of approvalRows.rows) {
    const key = `${row.release_id}|${row.kind}|${row.approver}`;
    approvalSeen.add(key);
    if (!approvals.has(key))
      problems.push(
        `the ${row.kind} approval of release ${row.release_id} by "${row.approver}" has no audit event: it was forged`,
      );
  }
  for (const key of approvals)
    if (!approvalSeen.has(key)) {
      const [release, kind, approver] = key.split('|');
      problems.push(`the ${kind} approval of release ${release} by "${approver}" was deleted`);
    }

  const pointerRows = await db.query<{ benefit: string; ruleset_hash: string; release_id: string | null }>(
    'SELECT benefit, ruleset_hash, release_id FROM active_rulesets ORDER BY benefit',
  );
  checked.benefits = pointerRows.rows.length;
  for (const row of pointerRows.rows) {
    const recorded = active.get(row.benefit);
    if (!recorded) problems.push(`the active rule set of ${row.benefit} was never recorded in the audit log`);
    else if (recorded.hash !== row.ruleset_hash || (recorded.release ?? null) !== (row.release_id ?? null))
      problems.push(
        `${row.benefit} is decided by ${row.ruleset_hash}${row.release_id ? ` (release ${row.release_id})` : ''}, but the audit log makes ${recorded.hash}${recorded.release ? ` (release ${recorded.release})` : ''} active: the pointer was moved by hand`,
      );
  }

  for (const [benefit] of active)
    if (!pointerRows.rows.some((r) => r.benefit === benefit))
      problems.push(`the active rule set row of ${benefit} was deleted`);
  for (const what of seededTwice)
    problems.push(
      `${what} was seeded twice: its row was deleted and seeded again from the code or files, without a release`,
    );

  const flagRows = await db.query<{ key: string; enabled: boolean; rollout_basis_points: number }>(
    'SELECT key, enabled, rollout_basis_points FROM feature_flags ORDER BY key',
  );
  checked.flags = flagRows.rows.length;
  for (const row of flagRows.rows) {
    const recorded = flags.get(row.key);
    const stored = { enabled: row.enabled, rolloutBasisPoints: Number(row.rollout_basis_points) };
    if (!recorded) problems.push(`flag ${row.key} has no audit event: it was inserted by hand`);
    else if (!isDeepStrictEqual(stored, recorded))
      problems.push(
        `flag ${row.key} is ${JSON.stringify(stored)} but the audit log records ${JSON.stringify(recorded)}: it was changed by hand`,
      );
  }

  for (const [key] of flags)
    if (!flagRows.rows.some((r) => r.key === key))
      problems.push(`flag ${key} is in the audit log but its row was deleted`);

  const settings = await db.query<{ value: string }>("SELECT value FROM service_settings WHERE name = 'environment'");
  const storedEnvironment = settings.rows[0]?.value;
  checked.environment = storedEnvironment === undefined ? 0 : 1;
  if (storedEnvironment !== environment)
    problems.push(
      `the recorded environment is "${storedEnvironment ?? 'none'}" but the audit log records "${environment ?? 'none'}": it was changed by hand`,
    );

  const keyRows = await db.query<{
    id: string;
    name: string;
    roles: string[];
    key_hash: string;
    revoked_at: string | null;
    person: string | null;
    person_name: string | null;
    expires_at: string | null;
  }>(
    `SELECT k.id, k.name, k.roles, k.key_hash, k.revoked_at, p.handle AS person, p.name AS person_name, k.expires_at
     FROM api_keys k LEFT JOIN people p ON p.id = k.person_id ORDER BY k.id`,
  );
  checked.keys = keyRows.rows.length;
  const keySeen = new Set<string>();
  for (const row of keyRows.rows) {
    keySeen.add(row.id);
    const recorded = keys.get(row.id);
    if (!recorded) {
      problems.push(
        keysAdopted
          ? `key ${row.name} has no audit event: it was inserted by hand`
          : `key ${row.name} is not in the audit log yet: start the service once (it records the keys made before keys were audited)`,
      );
      continue;
    }
    const stored = {
      name: row.name,
      roles: [...row.roles].sort(),
      keyHash: row.key_hash,
      revoked: row.revoked_at !== null,
      // The name a key acts as must fold to the handle recorded: renaming a person by hand
      // ("Alice Smith" to "Bob Jones") would make every key of theirs act as someone else.
      person: row.person_name !== null && personHandle(row.person_name) !== row.person ? 'renamed' : row.person,
      // An expiry moved by hand would keep a rotated-out key working.
      expiresAt: row.expires_at ?? null,
    };
    if (!isDeepStrictEqual(stored, { ...recorded, roles: [...recorded.roles].sort() })) {
      const what = [
        stored.name !== recorded.name && 'name',
        !isDeepStrictEqual(stored.roles, [...recorded.roles].sort()) && 'roles',
        stored.keyHash !== recorded.keyHash && 'secret',
        stored.person !== recorded.person && 'holder',
        stored.expiresAt !== recorded.expiresAt && 'expiry',
        stored.revoked !== recorded.revoked && (stored.revoked ? 'revocation' : 'revocation (undone)'),
      ].filter(Boolean);
      problems.push(
        `key ${row.name}: its ${what.join(' and ')} differ from the audit log: the key was changed by hand`,
      );
    }
  }
  for (const [id, k] of keys)
    if (!keySeen.has(id)) problems.push(`key ${k.name} is in the audit log but its row was deleted`);

  return { ok: problems.length === 0, checked, problems, reviews: dutyReviews(events) };
}
