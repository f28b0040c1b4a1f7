export type { Database, PoolStats, Queryable } from './database.ts';
export {
  migrate,
  migrationsCurrent,
  readMigrations,
  shippedMigrations,
  type Migration,
  type MigrationResult,
} from './migrate.ts';
export { describeStore, openDatabase, storeSettingsFrom, type StoreSettings } from './open.ts';
export { lockDataDir } from './data-dir-lock.ts';
export { openPglite } from './pglite.ts';
export { openPostgres } from './postgres.ts';
export { withFaults, type FaultSwitch } from './faults.ts';
export { checkMigration, checkMigrations, LARGE_TABLES, type MigrationProblem } from './migration-safety.ts';
export { recordingStatements } from './recording.ts';
