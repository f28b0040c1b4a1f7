import { resolve } from 'node:path';
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
}

/** Where data lives, said the same way by `serve` and every command that touches data. */
export function storeSettingsFrom(
  options: { dataDir?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): StoreSettings {
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: options.dataDir ?? env.ENTITLE_DATA_DIR ?? './data',
    maxConnections: env.ENTITLE_DB_POOL_SIZE ? Number(env.ENTITLE_DB_POOL_SIZE) : undefined,
  };
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
