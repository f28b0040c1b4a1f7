import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { EntitleError } from '../errors/index.ts';
import type { Role } from '../keys/index.ts';

/** Roles that may read the operations console (an assessor key serves a front end, not a person). */
export const CONSOLE_ROLES: readonly Role[] = ['operator', 'admin', 'auditor', 'approver', 'policy-author'];

export const SESSION_COOKIE = 'entitle_ops';
/** The longest a session lasts, however active: then the person signs in again. */
export const SESSION_HOURS = 8;
/** Minutes without a page or a "stay signed in" before the session ends (ENTITLE_CONSOLE_IDLE_MINUTES). */
export const DEFAULT_IDLE_MINUTES = 15;
/** How long before the idle timeout the page warns, and offers to stay signed in. */
export const WARNING_SECONDS = 120;

/** Who signed in: the session's id, and the key's id, name and roles; never the key itself. */
export interface OpsSession {
  /** The server-side session (console_sessions): ended there by signing out or idling. */
  readonly sid: string;
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

/**
 * The secrets in ENTITLE_SESSION_SECRET: one, or a ring of several, one per line (a secret may
 * hold any other character). The first seals new sessions; every one opens them, so a secret is
 * rotated without signing anyone out: put the new one second, then first, then drop the old one a
 * session's length later (docs/operations.md, "Rotating secrets").
 */
export function secretRing(value: string | undefined): string[] {
  return (value ?? '')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The idle timeout in minutes from ENTITLE_CONSOLE_IDLE_MINUTES: a whole number from 3 to 480. */
export function idleMinutesFrom(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_IDLE_MINUTES;
  const minutes = Number(value);
  if (!Number.isInteger(minutes) || minutes < 3 || minutes > SESSION_HOURS * 60)
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'ENTITLE_CONSOLE_IDLE_MINUTES is not valid', [
      {
        field: 'ENTITLE_CONSOLE_IDLE_MINUTES',
        message: `enter a whole number of minutes from 3 to ${SESSION_HOURS * 60}`,
      },
    ]);
  return minutes;
}

/**
 * Seals a session into a cookie value (its JSON, then an HMAC-SHA256 of it) and opens it again,
 * refusing any value whose MAC matches no secret of the ring or whose time is up. Without a
 * secret, one random for this process: sessions then end when it stops and are not shared
 * between instances.
 */
export class SessionSealer {
  private readonly secrets: readonly Buffer[];

  constructor(secrets?: string | readonly string[]) {
    const ring = typeof secrets === 'string' ? secretRing(secrets) : (secrets ?? []);
    this.secrets = ring.length > 0 ? ring.map((s) => Buffer.from(s, 'utf8')) : [randomBytes(32)];
  }

  private static mac(secret: Buffer, payload: string): Buffer {
    return createHmac('sha256', secret).update(`entitle-ops-session.${payload}`).digest();
  }

  seal(session: OpsSession): string {
    const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
    return `${payload}.${SessionSealer.mac(this.secrets[0]!, payload).toString('base64url')}`;
  }

  open(value: string | undefined, now = Date.now()): OpsSession | undefined {
    const [payload, mac, extra] = (value ?? '').split('.');
    if (!payload || !mac || extra !== undefined) return undefined;
    const given = Buffer.from(mac, 'base64url');
    const genuine = this.secrets.some((secret) => {
      const expected = SessionSealer.mac(secret, payload);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    if (!genuine) return undefined;
    let session: OpsSession;
    try {
      session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as OpsSession;
    } catch {
      return undefined;
    }
    if (
      typeof session.sid !== 'string' ||
      typeof session.expiresAt !== 'number' ||
      session.expiresAt <= now ||
      !Array.isArray(session.roles)
    )
      return undefined;
    if (!(session.roles as readonly unknown[]).some((role) => (CONSOLE_ROLES as readonly unknown[]).includes(role)))
      return undefined;
    return session;
  }
}
