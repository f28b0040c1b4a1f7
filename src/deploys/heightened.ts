import { Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import { appendAuditEvent } from '../audit/index.ts';
import { EntitleError } from '../errors/index.ts';
import type { Database, Queryable } from '../store/index.ts';
import { deployRecordSchema, HEIGHTENED_HOURS } from './deploys.ts';

/** The heightened window of an environment: from its last deploy or rollback, for HEIGHTENED_HOURS. */
export interface HeightenedWindow {
  readonly environment: string;
  /** Whether `now` is inside it. */
  readonly active: boolean;
  /** The deploy that opened it; null when nothing was ever deployed here. */
  readonly version: string | null;
  readonly commit: string | null;
  readonly since: string | null;
  readonly until: string | null;
}

/** The window the environment's newest deploy or rollback opened, as the audit chain records it. */
export async function heightenedWindow(
  db: Queryable,
  environment: string,
  now = new Date(),
): Promise<HeightenedWindow> {
  const { rows } = await db.query<{ evidence: { record: { timestamp: string; version: string; commit: string } } }>(
    `SELECT evidence FROM audit_events WHERE action IN ('deploy.recorded', 'deploy.rolled_back') AND subject = $1
      ORDER BY seq DESC LIMIT 1`,
    [environment],
  );
  const record = rows[0]?.evidence.record;
  if (!record) return { environment, active: false, version: null, commit: null, since: null, until: null };
  const until = new Date(Date.parse(record.timestamp) + HEIGHTENED_HOURS * 3_600_000).toISOString();
  return {
    environment,
    active: now.getTime() < Date.parse(until),
    version: record.version,
    commit: record.commit,
    since: record.timestamp,
    until,
  };
}

/**
 * `entitle_deploy_heightened`: 1 while this instance's environment is in its heightened window,
 * else 0; what the `page-after-deploy` alerts are conditioned on. Read from the audit chain when
 * scraped, at most every `cacheMs`, so every instance says 1 within seconds of the deploy record;
 * a database slower than a second keeps the last value rather than holding up the scrape.
 */
export function heightenedGauge(db: Queryable, environment: string, registry: Registry, cacheMs = 10_000): void {
  let value = 0;
  let readAt = -Infinity;
  new Gauge({
    name: 'entitle_deploy_heightened',
    help: `1 for ${HEIGHTENED_HOURS} hours after a deploy or rollback of this environment (the heightened window: burn-rate alerts page at a lower threshold), else 0`,
    registers: [registry],
    async collect() {
      if (Date.now() - readAt >= cacheMs) {
        const read = heightenedWindow(db, environment).then(
          (w) => {
            value = w.active ? 1 : 0;
            readAt = Date.now();
          },
          () => undefined,
        );
        await Promise.race([read, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      }
      this.set(value);
    },
  });
}

export const WATCH_VERDICTS = ['held', 'broke', 'unwatched'] as const;

/** What `entitle deploy watch` found, recorded in the audit chain. */
export const deployWatchSchema = z.strictObject({
  environment: deployRecordSchema.shape.environment,
  version: deployRecordSchema.shape.version,
  commit: deployRecordSchema.shape.commit,
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime(),
  verdict: z.enum(WATCH_VERDICTS),
  /** What broke, in words without personal data: a journey's burn rate, replay mismatches, an alert. */
  breaches: z.array(z.string().trim().min(1).max(500)).max(50),
  incident: z.string().trim().min(1).max(40).optional(),
});
export type DeployWatch = z.infer<typeof deployWatchSchema>;

/** Records a post-deploy watch and its verdict in the audit chain, as done by `actor`. */
export async function recordDeployWatch(db: Database, input: unknown, actor: string): Promise<DeployWatch> {
  const parsed = deployWatchSchema.safeParse(input);
  if (!parsed.success)
    throw new EntitleError(
      'ENTITLE_INPUT_INVALID',
      'the watch record is not valid',
      parsed.error.issues.map((issue) => ({ field: String(issue.path[0] ?? 'watch'), message: issue.message })),
    );
  const watch = parsed.data;
  const minutes = Math.round((Date.parse(watch.endedAt) - Date.parse(watch.startedAt)) / 60_000);
  await db.transaction((tx) =>
    appendAuditEvent(tx, {
      actor,
      action: 'deploy.watched',
      subject: watch.environment,
      reason: `version ${watch.version} (commit ${watch.commit.slice(0, 12)}) watched for ${minutes} minutes: ${watch.verdict}`,
      evidence: { watch },
    }),
  );
  return watch;
}
