import { createHash, randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { appendAuditEvent } from '../audit/index.ts';
import { EntitleError } from '../errors/index.ts';
import type { Database, Queryable } from '../store/index.ts';
import { checkPersonName, personHandle, samePerson } from '../people/index.ts';

/** What a key may do. Each route names the roles it accepts; admin may do everything. */
export const ROLES = [
  'assessor',
  'caseworker',
  'auditor',
  'policy-author',
  'approver',
  'operator',
  'alertmanager',
  'admin',
] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKey {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
  /**
   * The person who holds the key, as their name was first given: who acts, in every record, when
   * the key is used. One person may hold several keys; the two-person rule compares people.
   */
  readonly person: string;
  /** When it stops working; null: never. */
  readonly expiresAt: string | null;
}

export interface KeyListing extends ApiKey {
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** The longest a key may be made for, and the longest a rotated key's overlap: a year, and 90 days. */
export const MAX_KEY_DAYS = 366;
export const MAX_OVERLAP_DAYS = 90;

/** An expiry `days` from now, as an instant; refused by `field` when not a whole number of days in range. */
export function expiryIn(days: number | undefined, field: string, max = MAX_KEY_DAYS): string | null {
  if (days === undefined) return null;
  if (!Number.isInteger(days) || days < 1 || days > max)
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${field} is not valid`, [
      { field, message: `give a whole number of days from 1 to ${max}` },
    ]);
  return new Date(Date.now() + days * 86_400_000).toISOString();
}

const PREFIX = 'ent_';
/** Notified when a key is created or revoked. */
const KEYS_CHANNEL = 'entitle_keys';

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * The person a key is for, found by handle: added when new, and joined only when asked
 * (`existingPerson`), so two people whose names fold alike are never merged by accident and a
 * second key for the same person is never a second person.
 */
async function personFor(
  tx: Queryable,
  personName: string,
  field: string,
  existingPerson: boolean,
  refused: string,
): Promise<{ id: string; name: string }> {
  const handle = personHandle(personName);
  const inserted = await tx.query(
    'INSERT INTO people (id, name, handle, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (handle) DO NOTHING RETURNING id',
    [uuidv7(), personName, handle, new Date().toISOString()],
  );
  const { rows } = await tx.query<{ id: string; name: string }>('SELECT id, name FROM people WHERE handle = $1', [
    handle,
  ]);
  const holder = rows[0]!;
  if (inserted.rows.length === 0 && !existingPerson)
    throw new EntitleError('ENTITLE_INPUT_INVALID', refused, [
      {
        field,
        message: `${holder.name} holds keys already: if this key is theirs too, say so (--existing-person); if it is for someone else, name them so the two can be told apart, such as "${personName} (Leeds)"`,
      },
    ]);
  if (inserted.rows.length > 0 && existingPerson)
    throw new EntitleError('ENTITLE_INPUT_INVALID', refused, [
      { field, message: `no one named ${personName} holds a key yet: leave out --existing-person` },
    ]);
  return holder;
}

/**
 * Gives a key made before keys belonged to people (migration 009) its holder, recorded in the
 * audit chain as done by `actor` (an admin). Until then such a key acts as its own name. A key
 * that has a holder keeps them: a key is never handed from one person to another (revoke it, and
 * make the other person their own).
 */
export async function assignHolder(
  db: Database,
  name: string,
  person: string,
  actor: string,
  options: { readonly existingPerson?: boolean; readonly personField?: string } = {},
): Promise<KeyListing> {
  const personField = options.personField ?? '--person';
  const personName = checkPersonName(person, personField);
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string; person_id: string | null; revoked_at: string | null }>(
      'SELECT id, person_id, revoked_at FROM api_keys WHERE name = $1 FOR UPDATE',
      [name],
    );
    const found = rows[0];
    if (!found || found.revoked_at !== null)
      throw new EntitleError('ENTITLE_NOT_FOUND', `there is no active key named ${name}`, [
        { field: 'name', message: 'give the name of an active key, as "entitle keys list" shows it' },
      ]);
    if (found.person_id !== null)
      throw new EntitleError('ENTITLE_KEY_HOLDER_REFUSED', `key ${name} has a holder already`, [
        {
          field: 'name',
          message: 'a key is never handed to another person: revoke it, and make the other person a key of their own',
        },
      ]);
    // Until now the key acted as its own name. Work it started under that name and not yet decided
    // would otherwise be open to its approval as someone else: a release it wrote, or a flag
    // change it asked for. (Read by SQL: keys sit below releases and flags.)
    const { rows: open } = await tx.query<{ what: string; who: string }>(
      `SELECT 'release ' || id AS what, author AS who FROM releases WHERE state IN ('draft', 'validated', 'shadow', 'canary')
       UNION ALL SELECT 'flag change ' || id, requested_by FROM feature_flag_changes WHERE status = 'pending'`,
    );
    const mine = open.filter((o) => samePerson(o.who, name)).map((o) => o.what);
    if (mine.length > 0)
      throw new EntitleError('ENTITLE_KEY_HOLDER_REFUSED', `work under the name ${name} is not yet decided`, [
        {
          field: 'name',
          message: `give the key its holder once ${mine.join(', ')} ${mine.length === 1 ? 'is' : 'are'} decided: until then the key acts as ${name}, as that work says`,
        },
      ]);
    const holder = await personFor(
      tx,
      personName,
      personField,
      options.existingPerson === true,
      `key ${name} cannot be given to that person`,
    );
    await tx.query('UPDATE api_keys SET person_id = $1 WHERE id = $2', [holder.id, found.id]);
    await appendAuditEvent(tx, {
      actor,
      action: 'key.holder_assigned',
      subject: `key:${found.id}`,
      reason: `key ${name}, made before keys belonged to people, is held by ${holder.name}`,
      evidence: { name, person: personHandle(personName) },
    });
    await tx.query('SELECT pg_notify($1, $2)', [KEYS_CHANNEL, 'assigned']);
  });
  return (await listKeys(db)).find((k) => k.name === name)!;
}

/**
 * Creates a key for a person (the key's own name stands for the person when none is given: a
 * service's key). The person is found by their handle, so a second key for "alice  SMITH" belongs
 * to the Alice Smith who holds the first. The key itself is returned once and never stored: only
 * its SHA-256 is.
 */
export async function createKey(
  db: Database,
  name: string,
  roles: readonly string[],
  actor = 'operator',
  person?: string,
  options: {
    /** The key is for a person who holds keys already (their name folds to the same handle). */
    readonly existingPerson?: boolean;
    /** Made on the database itself: refused once an active admin key exists (checked under a lock). */
    readonly bootstrap?: boolean;
    /** When it stops working (an instant, from expiryIn); none: never. */
    readonly expiresAt?: string | null;
    /** Part of a rotation: runs in the same transaction before the key is made. */
    readonly within?: (tx: Queryable, made: { id: string; holderId: string }) => Promise<void>;
  } = {},
): Promise<{ key: string; apiKey: ApiKey }> {
  const problems = [];
  // Without a person the key's own name names its holder, and problems with it are the name's.
  const personField = person === undefined ? '--name' : '--person';
  let personName = name;
  try {
    personName = checkPersonName(person ?? name, personField);
  } catch (error) {
    problems.push(...(error as EntitleError).problems);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name))
    problems.push({
      field: '--name',
      message: 'use 1 to 64 letters, digits, dots, hyphens or underscores, such as front-end-1',
    });
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (roles.length === 0 || unknown.length > 0)
    problems.push({ field: '--roles', message: `give one or more of: ${ROLES.join(', ')}` });
  if (problems.length > 0) throw new EntitleError('ENTITLE_INPUT_INVALID', 'the key cannot be created', problems);
  const key = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  const handle = personHandle(personName);
  try {
    // The key and its audit event commit together: a key row without its event is a forgery,
    // and "entitle audit verify" says so.
    const apiKey = await db.transaction(async (tx) => {
      const now = new Date().toISOString();
      if (options.bootstrap) {
        // Two bootstraps at once cannot both see no admin key.
        await tx.query('LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE');
        const { rows: admins } = await tx.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM api_keys WHERE revoked_at IS NULL AND 'admin' = ANY (roles)",
        );
        if (admins[0]!.n > 0)
          throw new EntitleError('ENTITLE_FORBIDDEN', 'this database has an admin key already', [
            {
              field: 'ENTITLE_API_KEY',
              message:
                'make further keys through the service, as an admin: "entitle login --url URL" with your admin key, then run this again',
            },
          ]);
      }
      const holder = await personFor(
        tx,
        personName,
        personField,
        options.existingPerson === true,
        'the key cannot be created',
      );
      const expiresAt = options.expiresAt ?? null;
      const made: ApiKey = { id: uuidv7(), name, roles: roles as Role[], person: holder.name, expiresAt };
      await options.within?.(tx, { id: made.id, holderId: holder.id });
      await tx.query(
        'INSERT INTO api_keys (id, name, key_hash, roles, created_at, person_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [made.id, name, hashKey(key), roles, now, holder.id, expiresAt],
      );
      await appendAuditEvent(tx, {
        actor,
        action: 'key.created',
        subject: `key:${made.id}`,
        reason: `key ${name} created for ${holder.name}${expiresAt ? `, until ${expiresAt}` : ''}`,
        evidence: {
          name,
          roles: [...roles].sort(),
          keyHash: hashKey(key),
          person: handle,
          ...(expiresAt ? { expiresAt } : {}),
        },
      });
      // Delivered on commit: every instance reads the keys again (KeyVerifier.follow).
      await tx.query('SELECT pg_notify($1, $2)', [KEYS_CHANNEL, 'created']);
      return made;
    });
    return { key, apiKey };
  } catch (error) {
    if (/unique|duplicate/i.test((error as Error).message)) {
      throw new EntitleError('ENTITLE_INPUT_INVALID', 'the key cannot be created', [
        { field: '--name', message: `a key named ${name} exists already: choose another name, or revoke it first` },
      ]);
    }
    throw error;
  }
}

export async function listKeys(db: Database): Promise<KeyListing[]> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    roles: Role[];
    person: string | null;
    created_at: string;
    revoked_at: string | null;
    expires_at: string | null;
  }>(
    `SELECT k.id, k.name, k.roles, p.name AS person, k.created_at, k.revoked_at, k.expires_at
     FROM api_keys k LEFT JOIN people p ON p.id = k.person_id ORDER BY k.created_at`,
  );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    roles: r.roles,
    person: r.person ?? r.name,
    expiresAt: r.expires_at ?? null,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  }));
}

/**
 * Rotates a key: a new key for the same holder and roles (named `newName`), and the old one set
 * to stop working after `overlapDays`, so whatever uses it can move over without downtime. One
 * transaction; both changes are in the audit chain. The new key is returned once.
 */
export async function rotateKey(
  db: Database,
  name: string,
  actor: string,
  options: { readonly newName: string; readonly overlapDays: number; readonly expiresInDays?: number },
): Promise<{ key: string; apiKey: ApiKey; oldExpiresAt: string }> {
  const oldExpiresAt = expiryIn(options.overlapDays, 'overlapDays', MAX_OVERLAP_DAYS)!;
  const expiresAt = expiryIn(options.expiresInDays, 'expiresInDays');
  const { rows } = await db.query<{ id: string; roles: Role[]; person: string | null; expires_at: string | null }>(
    `SELECT k.id, k.roles, p.name AS person, k.expires_at FROM api_keys k LEFT JOIN people p ON p.id = k.person_id
     WHERE k.name = $1 AND k.revoked_at IS NULL`,
    [name],
  );
  const old = rows[0];
  if (!old)
    throw new EntitleError('ENTITLE_NOT_FOUND', `there is no active key named ${name}`, [
      { field: 'name', message: 'give the name of an active key, as "entitle keys list" shows it' },
    ]);
  // The old key never gains time by being rotated.
  const until = old.expires_at !== null && old.expires_at < oldExpiresAt ? old.expires_at : oldExpiresAt;
  const made = await createKey(db, options.newName, old.roles, actor, old.person ?? name, {
    existingPerson: old.person !== null,
    expiresAt,
    within: async (tx) => {
      const { rows: updated } = await tx.query<{ id: string }>(
        'UPDATE api_keys SET expires_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id',
        [old.id, until],
      );
      if (updated.length === 0)
        throw new EntitleError('ENTITLE_NOT_FOUND', `key ${name} was revoked meanwhile`, [
          { field: 'name', message: 'give the name of an active key' },
        ]);
      await appendAuditEvent(tx, {
        actor,
        action: 'key.expiry_set',
        subject: `key:${old.id}`,
        reason: `key ${name} rotated to ${options.newName}: it stops working at ${until}`,
        evidence: { name, expiresAt: until, rotatedTo: options.newName },
      });
    },
  });
  return { ...made, oldExpiresAt: until };
}

/** Revokes a key by name; it stops working as instances hear of it, within 10 s at most. */
export async function revokeKey(db: Database, name: string, actor = 'operator'): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      'UPDATE api_keys SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL RETURNING id',
      [name, new Date().toISOString()],
    );
    for (const row of rows)
      await appendAuditEvent(tx, {
        actor,
        action: 'key.revoked',
        subject: `key:${row.id}`,
        reason: `key ${name} revoked`,
      });
    if (rows.length > 0) await tx.query('SELECT pg_notify($1, $2)', [KEYS_CHANNEL, 'revoked']);
    return rows.length > 0;
  });
}

/**
 * Keys made before keys were audited enter the audit log once, as they stand, in one event; from
 * then on a key row without its own event is refused by "entitle audit verify". Run at start-up.
 */
export async function adoptUnauditedKeys(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT seq FROM audit_head FOR UPDATE');
    const { rows: done } = await tx.query("SELECT 1 FROM audit_events WHERE action = 'keys.adopted' LIMIT 1");
    if (done.length > 0) return;
    const { rows } = await tx.query<{
      id: string;
      name: string;
      roles: string[];
      key_hash: string;
      revoked_at: string | null;
    }>(
      `SELECT id, name, roles, key_hash, revoked_at FROM api_keys k
       WHERE NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.subject = 'key:' || k.id::text) ORDER BY id`,
    );
    await appendAuditEvent(tx, {
      actor: 'entitle',
      action: 'keys.adopted',
      subject: 'keys',
      reason: 'the keys made before keys were audited, as they stood',
      evidence: {
        keys: rows.map((r) => ({
          id: r.id,
          name: r.name,
          roles: [...r.roles].sort(),
          keyHash: r.key_hash,
          revoked: r.revoked_at !== null,
        })),
      },
    });
  });
}

/**
 * Checks keys against every active key, held in memory: a busy front end's key costs no query,
 * and neither does a made-up one. The keys are read again when one is created or revoked anywhere
 * (a notification, see follow), every `ttlMs` in the background, and when an unknown key arrives
 * and the last read is older than `minReloadMs`: however many bad keys arrive, they cost the
 * database at most one query a second and none waits for another's, while a new key is known from
 * the moment its creation is heard of.
 */
export class KeyVerifier {
  private keys = new Map<string, ApiKey>();
  /** When the query behind `keys` began (a key created after this may be missing from them). */
  private readAt = Number.NEGATIVE_INFINITY;
  /** When a read last began, whether or not it succeeded: misses read at most once a `minReloadMs`. */
  private triedAt = Number.NEGATIVE_INFINITY;
  /** A key was created or revoked since the last read began (a notification came): read again. */
  private changed = false;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly ttlMs = 10_000,
    private readonly minReloadMs = 1_000,
  ) {}

  async verify(presented: string): Promise<ApiKey | undefined> {
    if (!presented.startsWith(PREFIX) || presented.length > 100) return undefined;
    const hash = hashKey(presented);
    const now = Date.now();
    const due = now - this.triedAt >= this.minReloadMs;
    // Revocations are picked up in the background: valid keys never wait for a read.
    if (due && now - this.readAt > this.ttlMs && Number.isFinite(this.readAt)) void this.read().catch(() => undefined);
    const known = this.keys.get(hash);
    // A key past its expiry is refused like an unknown one (a rotated key's overlap is over).
    if (known) return known.expiresAt !== null && Date.parse(known.expiresAt) <= now ? undefined : known;
    const lastSucceeded = this.readAt >= this.triedAt;
    if (this.reading) await this.reading.catch(() => undefined);
    else if (due || (this.changed && lastSucceeded)) await this.read().catch(() => undefined);
    const found = this.keys.get(hash);
    if (found?.expiresAt && Date.parse(found.expiresAt) <= now) return undefined;
    // While the database is unreachable the keys read before keep working (reads and writes
    // fail with 503 on their own); a key not among them cannot be checked: 503, never 500.
    if (!found && this.triedAt > this.readAt)
      throw new EntitleError('ENTITLE_DATABASE_UNAVAILABLE', 'the API key could not be checked');
    return found;
  }

  /**
   * Reads the keys again whenever one is created or revoked anywhere (LISTEN): a new key works on
   * its first request, and a revoked one stops at once. Until the returned function is called.
   */
  async follow(): Promise<() => Promise<void>> {
    return this.db.listen(KEYS_CHANNEL, () => {
      this.changed = true;
      void this.read().catch(() => undefined);
    });
  }

  /**
   * One read at a time: callers arriving while it runs share it. A notification that came while
   * it ran makes one more read after it, so a revocation is never missed.
   */
  private read(): Promise<void> {
    this.reading ??= (async () => {
      do await this.query();
      while (this.changed);
    })().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async query(): Promise<void> {
    const started = Date.now();
    this.triedAt = started;
    const changedBefore = this.changed;
    this.changed = false;
    try {
      const { rows } = await this.db.query<{
        id: string;
        name: string;
        roles: Role[];
        key_hash: string;
        person: string | null;
        expires_at: string | null;
      }>(
        `SELECT k.id, k.name, k.roles, k.key_hash, p.name AS person, k.expires_at
         FROM api_keys k LEFT JOIN people p ON p.id = k.person_id WHERE k.revoked_at IS NULL`,
      );
      this.keys = new Map(
        rows.map((row) => [
          row.key_hash,
          {
            id: row.id,
            name: row.name,
            roles: row.roles,
            person: row.person ?? row.name,
            expiresAt: row.expires_at ?? null,
          },
        ]),
      );
      this.readAt = started;
    } catch (error) {
      // The change is still to be read; the next read, a `minReloadMs` later at the soonest, does it.
      this.changed ||= changedBefore;
      throw error;
    }
  }
}
