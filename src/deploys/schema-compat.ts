import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Database } from '../store/index.ts';

/**
 * Does the previous release still work on the new schema? During a rolling deploy it runs against
 * the database the new release migrated, so every statement it sends must still make sense there.
 * Each release records the statements its service sends (`entitle db record-queries`, committed as
 * deploy/schema/release-queries.json); before the next release ships, each is prepared (parsed,
 * its tables, columns and types resolved, not run) against a database migrated to the new schema.
 */

export const RELEASE_QUERIES_FILE = 'deploy/schema/release-queries.json';

export interface ReleaseQueries {
  /** The release that sends these statements. */
  readonly release: string;
  /** The newest migration it shipped with. */
  readonly migration: number;
  readonly statements: readonly string[];
}

export interface Incompatibility {
  readonly statement: string;
  readonly error: string;
}

/** Only these can be prepared; the rest (BEGIN, SET, LISTEN, locks) do not depend on the schema's tables. */
const PREPARABLE = /^(SELECT|INSERT|UPDATE|DELETE|WITH|VALUES)\b/i;

export function preparable(statements: Iterable<string>): string[] {
  return [...statements].filter((s) => PREPARABLE.test(s) && !s.includes(';')).sort();
}

/** Prepares each statement on one session of `db`; returns those the schema refuses, with PostgreSQL's reason. */
export async function checkStatements(db: Database, statements: readonly string[]): Promise<Incompatibility[]> {
  return db.session(async (conn) => {
    const problems: Incompatibility[] = [];
    for (const [i, statement] of statements.entries()) {
      try {
        await conn.exec(`PREPARE entitle_compat_${i} AS ${statement}`);
        await conn.exec(`DEALLOCATE entitle_compat_${i}`);
      } catch (error) {
        problems.push({ statement, error: (error as Error).message });
      }
    }
    return problems;
  });
}

export async function readReleaseQueries(path: string): Promise<ReleaseQueries> {
  return JSON.parse(await readFile(path, 'utf8')) as ReleaseQueries;
}

export async function writeReleaseQueries(path: string, queries: ReleaseQueries): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(queries, null, 2)}\n`);
}
