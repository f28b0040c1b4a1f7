import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../store/index.ts';
import { SESSION_HOURS } from './session.ts';

/** Why a session ended. */
export type EndReason = 'signed-out' | 'idle' | 'expired' | 'key-revoked';

/** A session's state when a page is asked for. */
export type SessionState =
  | { readonly active: true; readonly lastSeenAt: string }
  | { readonly active: false; readonly reason: EndReason | 'unknown' };

const digest = (sid: string) => createHash('sha256').update(sid).digest('hex');
const iso = (ms: number) => new Date(ms).toISOString();
/** Ended sessions are kept a month (who was signed in when), then forgotten. */
const KEEP_ENDED_MS = 31 * 24 * 3600_000;

/**
 * Starts a session for a key: its id (for the sealed cookie) and when it ends at the latest, which
 * is never after the key itself expires.
 */
export async function startSession(
  db: Queryable,
  keyId: string,
  now = Date.now(),
  keyExpiresAt?: number,
): Promise<{ sid: string; expiresAt: number }> {
  const sid = randomBytes(24).toString('base64url');
  const expiresAt = Math.min(now + SESSION_HOURS * 3600_000, keyExpiresAt ?? Infinity);
  await db.query(
    `INSERT INTO console_sessions (sid_digest, key_id, created_at, last_seen_at, expires_at)
     VALUES ($1, $2, $3, $3, $4)`,
    [digest(sid), keyId, iso(now), iso(expiresAt)],
  );
  // Sessions started are few (people signing in): tidying here needs no scheduler.
  await db.query('DELETE FROM console_sessions WHERE expires_at < $1', [iso(now - KEEP_ENDED_MS)]);
  return { sid, expiresAt };
}

/**
 * Uses a session: if it has not ended, been idle longer than `idleMs`, or run past its end, it is
 * marked used now (`touch`) and is active; otherwise it is ended, with the reason, and is not.
 */
export async function useSession(
  db: Queryable,
  sid: string,
  idleMs: number,
  options: { now?: number; touch?: boolean } = {},
): Promise<SessionState> {
  const now = options.now ?? Date.now();
  const { rows } = await db.query<{
    last_seen_at: string;
    expires_at: string;
    ended_at: string | null;
    end_reason: string | null;
  }>('SELECT last_seen_at, expires_at, ended_at, end_reason FROM console_sessions WHERE sid_digest = $1', [
    digest(sid),
  ]);
  const row = rows[0];
  if (!row) return { active: false, reason: 'unknown' };
  if (row.ended_at !== null) return { active: false, reason: row.end_reason as EndReason };
  const reason: EndReason | undefined =
    Date.parse(row.expires_at) <= now ? 'expired' : Date.parse(row.last_seen_at) + idleMs <= now ? 'idle' : undefined;
  if (reason) {
    await endSession(db, sid, reason, now);
    return { active: false, reason };
  }
  if (options.touch === false) return { active: true, lastSeenAt: row.last_seen_at };
  const seen = iso(now);
  // Only forwards: two tabs' requests arriving out of order never move the time back.
  await db.query(
    'UPDATE console_sessions SET last_seen_at = $2 WHERE sid_digest = $1 AND ended_at IS NULL AND last_seen_at < $2',
    [digest(sid), seen],
  );
  return { active: true, lastSeenAt: seen };
}

/** Ends a session on the server: its cookie, wherever it was copied, opens nothing any more. */
export async function endSession(db: Queryable, sid: string, reason: EndReason, now = Date.now()): Promise<void> {
  await db.query(
    'UPDATE console_sessions SET ended_at = $2, end_reason = $3 WHERE sid_digest = $1 AND ended_at IS NULL',
    [digest(sid), iso(now), reason],
  );
}
