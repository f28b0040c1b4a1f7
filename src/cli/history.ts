import type { AuditEvent } from '../audit/index.ts';
import { EntitleError } from '../errors/index.ts';
import type { Incident } from '../incidents/index.ts';
import { historyFromDatabase, type OperationsHistory } from '../monitoring/index.ts';
import { connection, type ServiceClient } from './client.ts';
import { withDatabase } from './database.ts';

function historyFromService(client: ServiceClient): OperationsHistory {
  return {
    auditEventsSince: async (since) =>
      (await client.get<{ events: AuditEvent[] }>(`/v1/audit-events?since=${encodeURIComponent(since)}`)).events,
    incidents: async ({ unreviewed }) =>
      (await client.get<{ incidents: Incident[] }>(`/v1/incidents${unreviewed ? '?unreviewed=true' : ''}`)).incidents,
  };
}

/**
 * The changes and incidents `status` and `report weekly` show: through the service with your key
 * when you have one (entitle login, or ENTITLE_API_KEY), so they work beside a running service on
 * the embedded database; else from the database itself (DATABASE_URL or the data directory), as
 * when no service runs. `work` is also given the service's address.
 */
export async function withOperationsHistory<T>(
  options: { dataDir?: string },
  work: (history: OperationsHistory, serviceUrl: string) => Promise<T>,
): Promise<T> {
  const client = await connection();
  if (client.hasKey) return work(historyFromService(client), client.url);
  return withDatabase(options, (db) => work(historyFromDatabase(db), client.url)).catch((error: unknown) => {
    // The embedded database is the running service's: the way in is through it.
    if (error instanceof EntitleError && error.code === 'ENTITLE_DATA_DIR_IN_USE')
      throw new EntitleError(error.code, error.message, [
        {
          field: 'ENTITLE_API_KEY',
          message: `sign in once with "entitle login --url ${client.url}" (or set ENTITLE_API_KEY): this command then reads through the running service`,
        },
      ]);
    throw error;
  });
}
