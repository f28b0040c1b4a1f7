import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../keys/index.ts';

/** Roles that may read the operations console (an assessor key serves a front end, not a person). */
export const CONSOLE_ROLES: readonly Role[] = ['operator', 'admin', 'auditor', 'approver', 'policy-author'];

export const SESSION_COOKIE = 'entitle_ops';
export const SESSION_HOURS = 8;

/** Who signed in: the key's id, name and roles, never the key itself. */
export interface OpsSession {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

/**
 * Seals a session into a cookie value (its JSON, then an HMAC-SHA256 of it) and opens it again,
 * refusing any value whose MAC does not match or whose time is up. The secret is
 * ENTITLE_SESSION_SECRET, or else random for this process: sessions then end when it stops and
 * are not shared between instances.
 */
export class SessionSealer {
  private readonly secret: Buffer;

  constructor(secret?: string) {
    this.secret = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.secret).update(`entitle-ops-session.${payload}`).digest();
  }

  seal(session: OpsSession): string {
    const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
    return `${payload}.${this.mac(payload).toString('base64url')}`;
  }

  open(value: string | undefined, now = Date.now()): OpsSession | undefined {
    const [payload, mac, extra] = (value ?? '').split('.');
    if (!payload || !mac || extra !== undefined) return undefined;
    const given = Buffer.from(mac, 'base64url');
    const expected = this.mac(payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let session: OpsSession;
    try {
      session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as OpsSession;
    } catch {
      return undefined;
    }
    if (typeof session.expiresAt !== 'number' || session.expiresAt <= now || !Array.isArray(session.roles))
      return undefined;
    if (!(session.roles as readonly unknown[]).some((role) => (CONSOLE_ROLES as readonly unknown[]).includes(role)))
      return undefined;
    return session;
  }
}
