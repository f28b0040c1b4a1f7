import { Option, type Command } from 'commander';
import { deployRecordSchema, type DeployWatch, type HeightenedWindow } from '../../../deploys/index.ts';
import { ENVIRONMENTS } from '../../../environments/index.ts';
import { EntitleError } from '../../../errors/index.ts';
import type { StoredIncident } from '../../../incidents/index.ts';
import {
  DEFAULT_WATCH,
  DeployWatcher,
  PrometheusClient,
  WATCH_BURN_RATE,
  type WatchCheck,
  type WatchResult,
} from '../../../monitoring/index.ts';
import { formatLondon } from '../../../uk-time/index.ts';
import { connection } from '../../client.ts';
import { EXIT } from '../../exit.ts';
import { jsonOption, printJson } from '../../output.ts';

const UNITS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** A duration such as 45s, 30m or 1h, refused with the option's name when it is not one. */
function duration(text: string, option: string, least: number, most: number): number {
  const match = /^(\d+)(s|m|h)$/.exec(text.trim());
  const ms = match ? Number(match[1]) * UNITS[match[2] as keyof typeof UNITS] : NaN;
  if (!(ms >= least && ms <= most))
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${option} is not a duration it can take`, [
      {
        field: option,
        message: `give a whole number of seconds, minutes or hours (such as 30s, 10m or 1h) from ${least / 1000} s to ${most / 3_600_000} h`,
      },
    ]);
  return ms;
}

function line(check: WatchCheck): string {
  const time = formatLondon(check.at);
  if (check.unreachable) return `${time}  Prometheus not read: ${check.unreachable}\n`;
  const burns = check.journeys.map((j) => `${j.slo} ${j.burn5m === null ? 'no events' : `${j.burn5m}x`}`).join(', ');
  return `${time}  burn over 5 minutes: ${burns}\n`;
}

interface WatchOptions {
  environment: string;
  version: string;
  commit: string;
  for: string;
  every: string;
  prometheus?: string;
  json?: boolean;
}

/**
 * `entitle deploy watch`: the hour after promotion, checked rather than promised. The pipeline runs
 * it after recording the deploy; it exits 1 when something broke, having opened an incident, and
 * the pipeline rolls back.
 */
export function registerDeployWatch(deploy: Command): void {
  deploy
    .command('watch')
    .description(
      `Watch a promoted build for --for (default 1h): each journey's burn rate over 5 minutes and the hour (from Prometheus's recording rules), decisions replayed differently by the new build, and any Entitle page that starts. A journey burning faster than ${WATCH_BURN_RATE}x on two checks in a row, one replay that differs, or a page: opens an incident through the service with your key and exits 1, so the pipeline rolls back. Prometheus unreadable for 5 minutes: exits 5. Each outcome is recorded in the audit chain.`,
    )
    .addOption(
      new Option('--environment <environment>', 'where it was deployed')
        .choices([...ENVIRONMENTS])
        .makeOptionMandatory(),
    )
    .requiredOption('--version <version>', 'the version deployed, such as 1.4.2')
    .requiredOption('--commit <sha>', 'the whole git commit it was built from (40 characters)')
    .option('--for <duration>', 'how long to watch: 30s to 24h', '1h')
    .option('--every <duration>', 'how often to check: 1s to 10m', '30s')
    .addOption(new Option('--prometheus <url>', 'Prometheus to read').env('PROMETHEUS_URL'))
    .addOption(jsonOption('the verdict, the breaches and the watch as recorded'))
    .action(async (options: WatchOptions) => {
      if (!options.prometheus)
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'the watch reads Prometheus', [
          { field: '--prometheus', message: 'give --prometheus or set PROMETHEUS_URL to where Prometheus runs' },
        ]);
      // No key goes to Prometheus, so plain http inside the cluster is fine; only the form is checked.
      if (!URL.canParse(options.prometheus) || !/^https?:$/.test(new URL(options.prometheus).protocol))
        throw new EntitleError('ENTITLE_INPUT_INVALID', '--prometheus is not an address', [
          {
            field: '--prometheus',
            message: 'give the http or https address of Prometheus, such as http://prometheus:9090',
          },
        ]);
      const prometheusUrl = options.prometheus.replace(/\/+$/, '');
      // Checked now, as the record will check them: not after an hour's watch that then cannot be recorded.
      for (const [field, value] of [
        ['version', options.version],
        ['commit', options.commit],
      ] as const) {
        const parsed = deployRecordSchema.shape[field].safeParse(value);
        if (!parsed.success)
          throw new EntitleError('ENTITLE_INPUT_INVALID', `--${field} is not valid`, [
            { field: `--${field}`, message: parsed.error.issues[0]!.message },
          ]);
      }
      const forMs = duration(options.for, '--for', 30_000, 24 * 3_600_000);
      const everyMs = duration(options.every, '--every', 1_000, 600_000);
      const service = await connection();
      const window = await service
        .get<HeightenedWindow>(
          `/v1/deploys/heightened?${new URLSearchParams({ environment: options.environment }).toString()}`,
        )
        .catch(() => undefined);
      const say = (text: string) => (options.json ? process.stderr : process.stdout).write(text);
      say(
        `watching version ${options.version} in ${options.environment} for ${options.for}, every ${options.every}${!window ? '; the heightened window could not be read from the service' : window.active ? `; heightened window until ${formatLondon(window.until!)}` : '; no deploy recorded here in the last 24 hours, so the heightened alerts are off'}\n`,
      );
      const watcher = new DeployWatcher(
        new PrometheusClient(prometheusUrl),
        { ...DEFAULT_WATCH, forMs, everyMs, unreachableMs: Math.min(DEFAULT_WATCH.unreachableMs, forMs) },
        new Date(),
      );
      const result = await watcher.run((check) => say(line(check)));
      // The verdict stands whatever happens next: the exit status is what makes the pipeline roll back.
      if (result.verdict === 'broke') process.exitCode = EXIT.failed;
      if (result.verdict === 'unwatched') process.exitCode = EXIT.unavailable;
      if (result.verdict === 'broke') say(`BROKE: ${result.breaches.map((b) => b.what).join('; ')}\n`);
      const incident =
        result.verdict === 'broke'
          ? await attempt('open the incident', () => openIncident(options, result), say)
          : undefined;
      const recorded = await attempt(
        'record the watch in the audit chain',
        () =>
          service.post<DeployWatch>('/v1/deploys/watches', {
            environment: options.environment,
            version: options.version,
            commit: options.commit,
            startedAt: result.startedAt,
            endedAt: result.endedAt,
            verdict: result.verdict,
            breaches: result.breaches.map((b) => b.what.slice(0, 500)),
            ...(incident ? { incident: incident.id } : {}),
          }),
        say,
      );
      if (options.json)
        return printJson({
          verdict: result.verdict,
          priority: result.priority,
          checks: result.checks,
          breaches: result.breaches,
          incident: incident?.id ?? null,
          recorded: recorded !== undefined,
        });
      if (result.verdict === 'held')
        say(
          `held: nothing broke in ${result.checks} checks over ${options.for}${recorded ? '; recorded in the audit chain' : ''}\n`,
        );
      else if (result.verdict === 'broke')
        say(
          `${incident ? `incident ${incident.id} (${incident.priority}) opened` : `no incident could be opened: declare one with "entitle incident declare --priority ${result.priority}"`}; roll back: kubectl argo rollouts undo entitle\n`,
        );
      else say('unwatched: Prometheus could not be read for 5 minutes; the deploy was not watched\n');
    });

  /**
   * A call to the service, tried three times 10 seconds apart: what broke the deploy may have
   * broken the service's database for a moment. Then given up, saying so, never thrown: the
   * pipeline must roll back whether or not the incident could be written down.
   */
  async function attempt<T>(what: string, call: () => Promise<T>, say: (text: string) => void): Promise<T | undefined> {
    for (let i = 1; ; i++) {
      try {
        return await call();
      } catch (error) {
        const reason = error instanceof EntitleError ? error.message : (error as Error).name;
        if (i === 3) {
          say(`could not ${what}: ${reason}\n`);
          return undefined;
        }
        say(`could not ${what} yet (${reason}); trying again in 10 seconds\n`);
        await new Promise((r) => setTimeout(r, 10_000));
      }
    }
  }

  async function openIncident(options: WatchOptions, result: WatchResult): Promise<StoredIncident> {
    const journeys = [...new Set(result.breaches.flatMap((b) => (b.slo ? [b.slo] : [])))];
    const { incident } = await (
      await connection()
    ).post<{ incident: StoredIncident }>('/v1/incidents', {
      title: `Version ${options.version} in ${options.environment} broke after deploy: ${result.breaches[0]!.kind === 'journey' ? 'a journey is burning its error budget' : result.breaches[0]!.kind === 'replay' ? 'decisions replay differently' : 'a page fired'}`,
      priority: result.priority!,
      text: `Found by entitle deploy watch (commit ${options.commit.slice(0, 12)}), which failed the pipeline so that it rolls back: ${result.breaches.map((b) => b.what).join('; ')}`.slice(
        0,
        5_000,
      ),
      ...(journeys.length > 0 ? { journeys } : {}),
      startedAt: result.endedAt,
    });
    return incident;
  }
}
