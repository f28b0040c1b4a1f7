export type { Database, PoolStats, Queryable } from './database.ts';
export {
  migrate,
  migrationsCurrent,
  readMigrations,
  shippedMigrations,
  type Migration,
  type MigrationResult,
} from './migrate.ts';
export {
  COMMAND_DB_TIMEOUT_MS,
  describeStore,
  openDatabase,
  SERVICE_DB_TIMEOUT_MS,
  storeSettingsFrom,
  type StoreSettings,
} from './open.ts';
export { DatabaseDeadline, databaseFailure, fromStore, type DatabaseFailure } from './failures.ts';
export type { CallOptions } from './database.ts';
export { lockDataDir } from './data-dir-lock.ts';
export { openPglite } from './pglite.ts';
export { abandonedTransactionMs, DEADLINE_MARGIN_MS, openPostgres } from './postgres.ts';
export { withFaults, type FaultSwitch } from './faults.ts';
export { checkMigration, checkMigrations, LARGE_TABLES, type MigrationProblem } from './migration-safety.ts';
export { recordingStatements } from './recording.ts';
