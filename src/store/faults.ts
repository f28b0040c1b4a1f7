import type { Database } from './database.ts';

/**
 * A database that can be made to fail on purpose, for end-to-end tests of alerting and
 * resilience ("the database is stopped") without stopping a server other tests share. Only ever
 * used when ENTITLE_TEST_FAULTS=on; the service logs a warning when it is.
 */
export interface FaultSwitch {
  readonly db: Database;
  setDatabaseDown(down: boolean): void;
  readonly databaseDown: boolean;
}

export function withFaults(inner: Database): FaultSwitch {
  let down = false;
  const fail = () =>
    Promise.reject(Object.assign(new Error('the database is down (test fault)'), { name: 'InjectedFault' }));
  const db: Database = {
    ...inner,
    query: (sql, params, call) => (down ? fail() : inner.query(sql, params, call)),
    exec: (sql) => (down ? fail() : inner.exec(sql)),
    transaction: (work, call) => (down ? fail() : inner.transaction(work, call)),
    session: (work, call) => (down ? fail() : inner.session(work, call)),
  };
  return {
    db,
    setDatabaseDown(value: boolean) {
      down = value;
    },
    get databaseDown() {
      return down;
    },
  };
}
