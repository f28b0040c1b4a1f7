import type { Command } from 'commander';
import { Option } from 'commander';
import { capacitySettingsFrom } from '../../capacity/index.ts';
import { ENVIRONMENTS, type Environment } from '../../environments/index.ts';
import { EntitleError } from '../../errors/index.ts';
import { trustProxyFrom } from '../../http/index.ts';
import { ROLES, type Role } from '../../keys/index.ts';
import { gateSettingsFrom } from '../../releases/index.ts';
import { startService } from '../../service/index.ts';
import { storeSettingsFrom } from '../../store/index.ts';
import { dataDirOption } from '../options.ts';
import { BUNDLED_RULESETS, BUNDLED_RULESETS_HELP } from '../paths.ts';

/** `assessor=100000,caseworker=600` to limits by role; every problem is named. */
export function parseRateLimits(text: string): Partial<Record<Role, number>> {
  const limits: Partial<Record<Role, number>> = {};
  const problems = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [role, value] = part.split('=');
    const limit = Number(value);
    if (!(ROLES as readonly string[]).includes(role ?? '') || !Number.isInteger(limit) || limit < 1) {
      problems.push({
        field: '--rate-limits',
        message: `"${part}" is not ROLE=REQUESTS_A_MINUTE with ROLE one of ${ROLES.join(', ')}`,
      });
    } else {
      limits[role as Role] = limit;
    }
  }
  if (problems.length > 0) throw new EntitleError('ENTITLE_INPUT_INVALID', 'the rate limits cannot be read', problems);
  return limits;
}

/** ENTITLE_ENVIRONMENT, refused with the choices named when it is not one of them. */
/**
 * ENTITLE_REPLAY_WATCH_SECONDS: how often each instance replays a recent decision with its own
 * build (default 10; 0 turns it off), refused by name when it is not a number of seconds.
 */
export function replayWatchMsFrom(text: string | undefined): number {
  if (text === undefined || text === '') return 10_000;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 86_400)
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'ENTITLE_REPLAY_WATCH_SECONDS is not valid', [
      { field: 'ENTITLE_REPLAY_WATCH_SECONDS', message: 'give a number of seconds from 0 (off) to 86400, such as 10' },
    ]);
  return seconds * 1000;
}

export function environmentFrom(text: string | undefined): Environment {
  if (text === undefined || text.trim() === '') return 'development';
  if (!(ENVIRONMENTS as readonly string[]).includes(text)) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'ENTITLE_ENVIRONMENT is not valid', [
      { field: 'ENTITLE_ENVIRONMENT', message: `give one of ${ENVIRONMENTS.join(', ')}` },
    ]);
  }
  return text as Environment;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the HTTP service. Uses PostgreSQL when DATABASE_URL is set, otherwise the embedded database in the data directory.',
    )
    .addOption(dataDirOption())
    .addOption(new Option('--host <host>', 'address to listen on').env('HOST').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port to listen on').env('PORT').default('3000'))
    .addOption(
      new Option('--rules <dir>', 'directory of rule sets to serve').default(BUNDLED_RULESETS, BUNDLED_RULESETS_HELP),
    )
    .addOption(
      new Option('--shutdown-grace <ms>', 'after SIGTERM, keep serving this long while /ready fails')
        .env('ENTITLE_SHUTDOWN_GRACE_MS')
        .default('0'),
    )
    .addOption(
      new Option(
        '--rate-limits <limits>',
        'requests a minute per key by role, such as assessor=100000,caseworker=600',
      ).env('ENTITLE_RATE_LIMITS'),
    )
    .action(
      async (options: {
        dataDir?: string;
        host: string;
        port: string;
        rules: string;
        shutdownGrace: string;
        rateLimits?: string;
      }) => {
        const service = await startService({
          store: storeSettingsFrom(options, process.env, 'service'),
          rulesDir: options.rules,
          host: options.host,
          port: Number(options.port),
          shutdownGraceMs: Number(options.shutdownGrace),
          ...(options.rateLimits ? { rateLimits: parseRateLimits(options.rateLimits) } : {}),
          trustProxy: trustProxyFrom(process.env.ENTITLE_TRUST_PROXY),
          logLevel: process.env.LOG_LEVEL ?? 'info',
          releases: { gates: gateSettingsFrom(process.env), listen: process.env.ENTITLE_RELEASE_NOTIFY !== 'off' },
          testFaults: process.env.ENTITLE_TEST_FAULTS === 'on',
          environment: environmentFrom(process.env.ENTITLE_ENVIRONMENT),
          flags: { listen: process.env.ENTITLE_RELEASE_NOTIFY !== 'off' },
          capacity: capacitySettingsFrom(process.env),
          replayWatchMs: replayWatchMsFrom(process.env.ENTITLE_REPLAY_WATCH_SECONDS),
        });
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            service.app.log.info({ event: 'signal', signal }, 'shutting down');
            void service.stop().then(resolve, (error: unknown) => {
              service.app.log.error(
                { event: 'stop_failed', kind: (error as Error).name },
                'shutdown did not complete cleanly',
              );
              process.exitCode = 1;
              resolve();
            });
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
      },
    );
}
