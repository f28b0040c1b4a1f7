import { createHash, randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { appendAuditEvent } from '../audit/index.ts';
import { EntitleError } from '../errors/index.ts';
import type { Database } from '../store/index.ts';

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
}

export interface KeyListing extends ApiKey {
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

const PREFIX = 'ent_';

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Creates a key. The key itself is returned once and never stored: only its SHA-256 is. */
export async function createKey(
  db: Database,
  name: string,
  roles: readonly string[],
  actor = 'operator',
): Promise<{ key: string; apiKey: ApiKey }> {
  const problems = [];
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
  const apiKey: ApiKey = { id: uuidv7(), name, roles: roles as Role[] };
  try {
    // The key and its audit event commit together: a key row without its event is a forgery,
    // and "entitle audit verify" says so.
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO api_keys (id, name, key_hash, roles, created_at) VALUES ($1, $2, $3, $4, $5)', [
        apiKey.id,
        name,
        hashKey(key),
        roles,
        new Date().toISOString(),
      ]);
      await appendAuditEvent(tx, {
        actor,
        action: 'key.created',
        subject: `key:${apiKey.id}`,
        reason: `key ${name} created`,
        evidence: { name, roles: [...roles].sort(), keyHash: hashKey(key) },
      });
    });
  } catch (error) {
    if (/unique|duplicate/i.test((error as Error).message)) {
      throw new EntitleError('ENTITLE_INPUT_INVALID', 'the key cannot be created', [
        { field: '--name', message: `a key named ${name} exists already: choose another name, or revoke it first` },
      ]);
    }
    throw error;
  }
  return { key, apiKey };
}

export async function listKeys(db: Database): Promise<KeyListing[]> {
  const { rows } = await db.query<{
    id: string;
    name: string;
    roles: Role[];
    created_at: string;
    revoked_at: string | null;
  }>('SELECT id, name, roles, created_at, revoked_at FROM api_keys ORDER BY created_at');
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    roles: r.roles,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  }));
}

/** Revokes a key by name; it stops working within the verifier's cache time. */
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
 * Checks keys against the database, caching answers (found or not) for `ttlMs`, so a busy front
 * end's key costs no query per request. A revoked key stops working within `ttlMs`.
 */
export class KeyVerifier {
  private readonly cache = new Map<string, { key: ApiKey | undefined; until: number }>();

  constructor(
    private readonly db: Database,
    private readonly ttlMs = 10_000,
  ) {}

  async verify(presented: string): Promise<ApiKey | undefined> {
    if (!presented.startsWith(PREFIX) || presented.length > 100) return undefined;
    const hash = hashKey(presented);
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.key;
    let rows: { id: string; name: string; roles: Role[] }[];
    try {
      ({ rows } = await this.db.query<{ id: string; name: string; roles: Role[] }>(
        'SELECT id, name, roles FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
        [hash],
      ));
    } catch {
      // While the database is unreachable a key it already knew keeps working (reads and writes
      // will fail with 503 on their own); a key it cannot check is answered 503, never 500.
      if (cached?.key) return cached.key;
      throw new EntitleError('ENTITLE_STORE_UNAVAILABLE', 'the API key could not be checked');
    }
    const row = rows[0];
    const key = row ? { id: row.id, name: row.name, roles: row.roles } : undefined;
    if (this.cache.size >= 10_000) this.cache.delete(this.cache.keys().next().value!);
    this.cache.delete(hash);
    this.cache.set(hash, { key, until: now + this.ttlMs });
    return key;
  }
}
