import { resolve } from 'node:path';
import { EntitleError } from '../errors/index.ts';
import type { Database } from './database.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { openPglite } from './pglite.ts';
import { openPostgres } from './postgres.ts';

export interface StoreSettings {
  /** PostgreSQL connection string; when absent the embedded database is used. */
  readonly databaseUrl?: string | undefined;
  /** Directory of the embedded database (default ./data). */
  readonly dataDir?: string | undefined;
  readonly maxConnections?: number | undefined;
  /** PostgreSQL: the longest a statement or a transaction may take (see openPostgres). */
  readonly timeoutMs?: number | undefined;
  /** PostgreSQL: the longest a call waits for a connection. */
  readonly connectTimeoutMs?: number | undefined;
}

/** The service answers people: its calls give up after seconds. Commands run long jobs. */
export const SERVICE_DB_TIMEOUT_MS = 5_000;
export const COMMAND_DB_TIMEOUT_MS = 600_000;

/** Where data lives, said the same way by `serve` and every command that touches data. */
export function storeSettingsFrom(
  options: { dataDir?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
  role: 'service' | 'command' = 'command',
): StoreSettings {
  // The service and commands have settings of their own: tuning the service's deadline must not
  // cut the nightly backup's statements short.
  const [timeoutSetting, defaultTimeoutMs] =
    role === 'service'
      ? ['ENTITLE_DB_TIMEOUT_MS', SERVICE_DB_TIMEOUT_MS]
      : ['ENTITLE_COMMAND_DB_TIMEOUT_MS', COMMAND_DB_TIMEOUT_MS];
  const problems: { field: string; message: string }[] = [];
  const whole = (name: string, min: number): number | undefined => {
    const text = env[name];
    if (text === undefined || text.trim() === '') return undefined;
    const n = Number(text);
    if (Number.isInteger(n) && n >= min) return n;
    problems.push({ field: name, message: `give a whole number of at least ${min}` });
    return undefined;
  };
  const settings = {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: options.dataDir ?? env.ENTITLE_DATA_DIR ?? './data',
    maxConnections: whole('ENTITLE_DB_POOL_SIZE', 1),
    timeoutMs: whole(timeoutSetting, 100) ?? defaultTimeoutMs,
    connectTimeoutMs: whole('ENTITLE_DB_CONNECT_TIMEOUT_MS', 100),
  };
  if (problems.length > 0)
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the database settings cannot be read', problems);
  return settings;
}

/** A short description for logs and messages; never includes a password. */
export function describeStore(settings: StoreSettings): string {
  if (!settings.databaseUrl) return `embedded database in ${resolve(settings.dataDir ?? './data')}`;
  try {
    const url = new URL(settings.databaseUrl);
    return `PostgreSQL at ${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

/** Opens the configured database. The embedded one is locked to this process until closed. */
export async function openDatabase(settings: StoreSettings): Promise<Database> {
  if (settings.databaseUrl) {
    return openPostgres({
      connectionString: settings.databaseUrl,
      ...(settings.maxConnections ? { maxConnections: settings.maxConnections } : {}),
      ...(settings.timeoutMs ? { timeoutMs: settings.timeoutMs } : {}),
      ...(settings.connectTimeoutMs ? { connectTimeoutMs: settings.connectTimeoutMs } : {}),
    });
  }
  const dir = resolve(settings.dataDir ?? './data');
  const release = await lockDataDir(dir);
  try {
    const db = await openPglite(dir);
    return {
      ...db,
      close: async () => {
        await db.close();
        await release();
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}
