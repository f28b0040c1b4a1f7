import type { Database, Queryable } from './database.ts';

/**
 * Wraps a database so that every statement sent through it is kept (text only, whitespace folded;
 * never the parameters, which may hold personal data): what a release's code asks of the schema,
 * for checking it against a newer schema (deploys/schema-compat.ts).
 */
export function recordingStatements(inner: Database): { db: Database; statements: Set<string> } {
  const statements = new Set<string>();
  const keep = (sql: string) => void statements.add(sql.replace(/\s+/g, ' ').trim());
  const wrap = (q: Queryable): Queryable => ({
    query: (sql, params, call) => (keep(sql), q.query(sql, params, call)),
    exec: (sql) => (keep(sql), q.exec(sql)),
  });
  const db: Database = {
    ...inner,
    ...wrap(inner),
    transaction: (work, call) => inner.transaction((tx) => work(wrap(tx)), call),
    session: (work, call) => inner.session((conn) => work(wrap(conn)), call),
  };
  return { db, statements };
}
