/**
 * Freeze windows: times, around critical dates, when no rule release may become active and no
 * deploy may go ahead without an emergency override by two people. Releases and deploys both
 * stop for them, so they have a home of their own. Every window added is an audit event.
 */
import { v7 as uuidv7 } from 'uuid';
import { appendAuditEvent } from '../audit/index.ts';
import { EntitleError } from '../errors/index.ts';
import type { Database, Queryable } from '../store/index.ts';

export interface FreezeWindow {
  readonly id: string;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly reason: string;
}

export async function addFreezeWindow(
  db: Database,
  window: Omit<FreezeWindow, 'id'>,
  actor: string,
): Promise<FreezeWindow> {
  if (Date.parse(window.endsAt) <= Date.parse(window.startsAt)) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the freeze window ends before it starts', [
      { field: 'to', message: 'enter an end after the start' },
    ]);
  }
  const id = uuidv7();
  await db.transaction(async (tx) => {
    await tx.query(
      'INSERT INTO freeze_windows (id, starts_at, ends_at, reason, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [id, window.startsAt, window.endsAt, window.reason, actor, new Date().toISOString()],
    );
    await appendAuditEvent(tx, {
      actor,
      action: 'freeze.added',
      subject: id,
      reason: window.reason,
      evidence: { startsAt: window.startsAt, endsAt: window.endsAt },
    });
  });
  return { id, ...window };
}

export async function freezeWindows(db: Queryable): Promise<FreezeWindow[]> {
  const { rows } = await db.query<{ id: string; starts_at: string; ends_at: string; reason: string }>(
    'SELECT id, starts_at, ends_at, reason FROM freeze_windows ORDER BY starts_at',
  );
  return rows.map((r) => ({ id: r.id, startsAt: r.starts_at, endsAt: r.ends_at, reason: r.reason }));
}

/** The freeze window in force at an instant, if any: rule releases and deploys both stop for it. */
export async function freezeWindowAt(db: Queryable, at: Date): Promise<FreezeWindow | undefined> {
  return (await freezeWindows(db)).find(
    (w) => Date.parse(w.startsAt) <= at.getTime() && at.getTime() < Date.parse(w.endsAt),
  );
}
