import { personHandle } from '../people/index.ts';

interface Event {
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly evidence: Record<string, unknown>;
}

/**
 * Separation of duties, read from the audit chain: every approval given by a person whose keys
 * were all made by the very person they approved for. The two-person rule compares people, so it
 * holds for each approval; but an admin who is also an author can make a key for a name of their
 * choosing and approve their own work with it. That cannot be told from a colleague whose key the
 * same admin made, so these are for a person to review, not integrity failures: an auditor asks
 * who the approver is. A key made on the database (the first, "bootstrap") counts as made by no
 * one person.
 */
export function dutyReviews(events: readonly Event[]): string[] {
  // For each holder (by handle), the people who made their keys, by handle.
  const makers = new Map<string, Set<string>>();
  const authors = new Map<string, string>();
  const reviews: string[] = [];
  const madeOnlyBy = (approver: string, other: string) => {
    const made = makers.get(personHandle(approver));
    return made !== undefined && made.size > 0 && [...made].every((m) => m === personHandle(other));
  };
  const review = (approver: string, other: string, what: string) => {
    if (madeOnlyBy(approver, other)) reviews.push(`${what}: approved by ${approver}, whose every key ${other} made`);
  };
  for (const e of events) {
    const ev = e.evidence ?? {};
    if (e.action === 'key.created') {
      const holder = typeof ev.person === 'string' ? ev.person : personHandle(String(ev.name));
      const made = makers.get(holder) ?? new Set<string>();
      made.add(personHandle(e.actor));
      makers.set(holder, made);
    } else if (e.action === 'key.holder_assigned' && typeof ev.person === 'string') {
      // A key made before keys belonged to people: whoever gave it its holder stands as its maker.
      const made = makers.get(ev.person) ?? new Set<string>();
      made.add(personHandle(e.actor));
      makers.set(ev.person, made);
    } else if (e.action === 'release.created') authors.set(e.subject, e.actor);
    else if (e.action === 'release.approved' || e.action === 'release.emergency_approved') {
      const author = authors.get(e.subject);
      if (author) review(e.actor, author, `release ${e.subject} by ${author}`);
    } else if (e.action === 'flag.changed' && typeof ev.requestedBy === 'string' && typeof ev.approvedBy === 'string')
      review(ev.approvedBy, ev.requestedBy, `flag change ${String(ev.change)} asked for by ${ev.requestedBy}`);
    else if (e.action === 'deploy.recorded' || e.action === 'deploy.rolled_back') {
      const record = ev.record as { operator?: string; version?: string; approvals?: string[] } | undefined;
      for (const approver of record?.approvals ?? [])
        review(approver, record!.operator!, `deploy of ${record!.version} to ${e.subject} by ${record!.operator}`);
    } else if (e.action === 'deploy.freeze_overridden')
      for (const approver of (ev.approvers as string[] | undefined) ?? [])
        review(approver, e.actor, `freeze override asked for by ${e.actor}`);
  }
  return reviews;
}
