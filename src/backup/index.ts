/** Backup and restore of the whole database, in one format for PostgreSQL and the embedded database. */
export {
  BACKUP_FORMAT,
  backupTo,
  readBackupHeader,
  restoreFrom,
  RestoreError,
  type BackupHeader,
  type BackupSummary,
  type RestoreSummary,
} from './backup.ts';
