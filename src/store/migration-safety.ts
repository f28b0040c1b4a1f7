import type { Migration } from './migrate.ts';

/**
 * Migration safety for zero-downtime deploys. While a release rolls out, the previous release
 * still runs against the new schema, so a migration may only expand: add tables, nullable
 * columns, indexes on small or new tables. What would break the previous release (dropping or
 * renaming what it reads, changing a type, a new NOT NULL it does not fill) is allowed only as the
 * contract step of an expand/contract pair, marked in the file:
 *
 *   -- entitle:contract expand=005 (why it is safe now)
 *
 * naming the earlier migration that expanded. Building an index or validating a constraint on a
 * large table locks it for the whole build: build the index CONCURRENTLY in a migration of its own
 * marked `-- entitle:no-transaction`, or mark the file `-- entitle:locks-large-table (why)`.
 * A migration outside a transaction cannot be rolled back, so it holds only concurrent index
 * statements, and each index it builds is dropped first (`DROP INDEX CONCURRENTLY IF EXISTS`), so a
 * build that failed half-way (leaving an invalid index) is redone when the migration runs again.
 *
 * Written by hand: it reads the statement kinds Entitle's migrations use, by pattern; no
 * well-kept package checks PostgreSQL migrations for backward compatibility offline.
 */

/** Tables that grow with citizens' traffic: a lock on them stops assessments. */
export const LARGE_TABLES = [
  'decisions',
  'decision_reads',
  'audit_events',
  'assessment_failures',
  'release_samples',
  'incident_entries',
] as const;

export interface MigrationProblem {
  readonly migration: string;
  readonly statement: string;
  readonly rule:
    | 'drop'
    | 'rename'
    | 'type-change'
    | 'not-null'
    | 'truncate'
    | 'large-table-lock'
    | 'contract-marker'
    | 'transaction';
  readonly message: string;
}

/** Whether a migration runs outside a transaction (concurrent index builds): marked `-- entitle:no-transaction`. */
export function runsOutsideTransaction(migration: Pick<Migration, 'sql'>): boolean {
  return /^--\s*entitle:no-transaction\b/m.test(migration.sql);
}

/** Statements of a script, comments removed. Dollar-quoted bodies are not used in migrations. */
export function sqlStatements(sql: string): string[] {
  const withoutComments = sql.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of withoutComments) {
    if (ch === "'") quoted = !quoted;
    if (ch === ';' && !quoted) {
      if (current.trim()) out.push(current.trim().replace(/\s+/g, ' '));
      current = '';
    } else current += ch;
  }
  if (current.trim()) out.push(current.trim().replace(/\s+/g, ' '));
  return out;
}

const IDENT = '("?[A-Za-z_][\\w$]*"?)';

export function checkMigration(migration: Migration, earlier: readonly Migration[]): MigrationProblem[] {
  const problems: MigrationProblem[] = [];
  const contract = /^--\s*entitle:contract\s+expand=(\d{3})/m.exec(migration.sql);
  const locksAllowed = /^--\s*entitle:locks-large-table\s+\S/m.test(migration.sql);
  if (contract && !earlier.some((m) => m.version === Number(contract[1]))) {
    problems.push({
      migration: migration.name,
      statement: contract[0],
      rule: 'contract-marker',
      message: `the contract step names expand=${contract[1]}, which is not an earlier migration`,
    });
  }
  const created = new Set<string>();
  const add = (statement: string, rule: MigrationProblem['rule'], message: string) =>
    problems.push({ migration: migration.name, statement: statement.slice(0, 160), rule, message });
  const outside = runsOutsideTransaction(migration);
  const dropped = new Set<string>();
  for (const statement of sqlStatements(migration.sql)) {
    const s = statement;
    const createTable = new RegExp(`^CREATE TABLE (?:IF NOT EXISTS )?${IDENT}`, 'i').exec(s);
    if (createTable) created.add(createTable[1]!.replaceAll('"', '').toLowerCase());
    const destructive = (rule: MigrationProblem['rule'], message: string) => {
      if (!contract)
        add(
          s,
          rule,
          `${message}: the previous release may still use it. Expand first; do this as the contract step of an expand/contract pair, a release later, marked "-- entitle:contract expand=NNN"`,
        );
    };
    if (/^DROP (TABLE|VIEW|SEQUENCE)\b/i.test(s)) destructive('drop', 'drops a table, view or sequence');
    if (/^ALTER TABLE\b.*\bDROP (COLUMN\b|(?!CONSTRAINT|DEFAULT|NOT NULL)\b)/i.test(s))
      destructive('drop', 'drops a column');
    if (/^ALTER (TABLE|VIEW|SEQUENCE)\b.*\bRENAME\b/i.test(s)) destructive('rename', 'renames a table or column');
    if (/^ALTER TABLE\b.*\bALTER (COLUMN )?\S+ (SET DATA )?TYPE\b/i.test(s))
      destructive('type-change', "changes a column's type");
    if (/^ALTER TABLE\b.*\bALTER (COLUMN )?\S+ SET NOT NULL\b/i.test(s))
      destructive('not-null', 'makes a column NOT NULL, which the previous release may not fill');
    if (/^ALTER TABLE\b.*\bADD (COLUMN )?(?!CONSTRAINT\b)[^,]*\bNOT NULL\b/i.test(s) && !/\bDEFAULT\b/i.test(s))
      destructive('not-null', 'adds a NOT NULL column without a default, which the previous release does not fill');
    if (/^(TRUNCATE|DELETE FROM)\b/i.test(s) && !/\bWHERE\b/i.test(s)) destructive('truncate', 'deletes every row');
    const concurrently = new RegExp(
      `^(CREATE (?:UNIQUE )?INDEX|DROP INDEX|REINDEX (?:INDEX|TABLE)) CONCURRENTLY (?:IF (?:NOT )?EXISTS )?${IDENT}`,
      'i',
    ).exec(s);
    if (concurrently && !outside)
      add(
        s,
        'transaction',
        'a CONCURRENTLY statement cannot run inside a transaction: put it in a migration of its own marked "-- entitle:no-transaction"',
      );
    if (outside && !concurrently)
      add(
        s,
        'transaction',
        'a migration marked "-- entitle:no-transaction" cannot be rolled back if it fails half-way, so it may hold only CREATE INDEX CONCURRENTLY, DROP INDEX CONCURRENTLY and REINDEX CONCURRENTLY',
      );
    if (outside && concurrently) {
      const name = concurrently[2]!.replaceAll('"', '').toLowerCase();
      if (/^DROP/i.test(concurrently[1]!)) dropped.add(name);
      else if (/^CREATE/i.test(concurrently[1]!) && !dropped.has(name)) {
        add(
          s,
          'transaction',
          `a failed concurrent build leaves an invalid index behind: put "DROP INDEX CONCURRENTLY IF EXISTS ${name}" before it, so running the migration again rebuilds it`,
        );
      }
    }
    const index = new RegExp(
      `^CREATE (?:UNIQUE )?INDEX (?!CONCURRENTLY)(?:IF NOT EXISTS )?(?:${IDENT} )?ON (?:ONLY )?${IDENT}`,
      'i',
    ).exec(s);
    const constraint = new RegExp(`^ALTER TABLE (?:ONLY )?${IDENT} ADD CONSTRAINT\\b(?!.*\\bNOT VALID\\b)`, 'i').exec(
      s,
    );
    const table = (index?.[2] ?? constraint?.[1])?.replaceAll('"', '').toLowerCase();
    if (table && (LARGE_TABLES as readonly string[]).includes(table) && !created.has(table) && !locksAllowed) {
      add(
        s,
        'large-table-lock',
        `${index ? 'builds an index on' : 'validates a constraint on'} ${table}, a large table, holding a lock that stops assessments for the whole build; if it must, mark the file "-- entitle:locks-large-table (why)" and run it in a quiet hour`,
      );
    }
  }
  return problems;
}

/** Checks the migrations newer than `since` (those the deploy would apply), each against those before it. */
export function checkMigrations(
  all: readonly Migration[],
  since = 0,
): { checked: string[]; problems: MigrationProblem[] } {
  const sorted = [...all].sort((a, b) => a.version - b.version);
  const fresh = sorted.filter((m) => m.version > since);
  return {
    checked: fresh.map((m) => m.name),
    problems: fresh.flatMap((m) =>
      checkMigration(
        m,
        sorted.filter((e) => e.version < m.version),
      ),
    ),
  };
}
