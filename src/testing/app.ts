import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { ServiceContext } from '../http/index.ts';
import { createKey, type Role } from '../keys/index.ts';
import { loadRuleSets } from '../rules/index.ts';
import { assembleApp, type AppSettings } from '../service/index.ts';
import { migrate, openPglite, type Database } from '../store/index.ts';
import { CAPACITY_WITHOUT_PRESSURE } from './capacity.ts';
import { TEST_LOG } from './log.ts';

/**
 * Personal details used by the HTTP tests: distinctive on purpose, so the log scan after a full
 * test run (scripts/scan-logs.js) can prove none of them ever reached a log line.
 */
export const CANARY = {
  dateOfBirth: '1977-07-17',
  earnings: 1234.56,
  applicationId: 'CANARY-APP-7717',
  childDateOfBirth: '2019-09-19',
  capital: 7171.71,
} as const;

export const canaryInput = {
  benefit: 'universal-credit',
  applicationId: CANARY.applicationId,
  assessmentDate: '2025-06-01',
  household: {
    adults: [
      {
        dateOfBirth: CANARY.dateOfBirth,
        monthlyNetEarnings: CANARY.earnings,
        limitedCapabilityForWorkRelatedActivity: false,
        lcwraProtected: false,
        carer: false,
      },
    ],
    children: [{ dateOfBirth: CANARY.childDateOfBirth, disability: 'none' }],
    monthlyEligibleHousingCosts: 0,
    nonDependants: 0,
    monthlyChildcareCosts: 0,
    capital: CANARY.capital,
    monthlyUnearnedIncome: 0,
    livesInGreaterLondon: false,
  },
};

/** One household as a caseworker's front end sends it: every field either benefit reads. */
export const SHARED_HOUSEHOLD = {
  adults: [
    {
      dateOfBirth: '1990-05-01',
      monthlyNetEarnings: 900,
      limitedCapabilityForWorkRelatedActivity: false,
      lcwraProtected: false,
      carer: false,
      annualAdjustedNetIncome: 24000,
    },
  ],
  children: [
    { dateOfBirth: '2016-03-02', disability: 'none' },
    { dateOfBirth: '2019-09-09', disability: 'none' },
  ],
  monthlyEligibleHousingCosts: 0,
  nonDependants: 0,
  monthlyChildcareCosts: 0,
  capital: 0,
  monthlyUnearnedIncome: 0,
  livesInGreaterLondon: false,
};

/** Where test services log: a file per process in ENTITLE_TEST_LOG_DIR (set by the test runner). */
export function testLogStream(): DestinationStream | undefined {
  const dir = process.env.ENTITLE_TEST_LOG_DIR;
  return dir ? createWriteStream(join(dir, `http-${process.pid}.log`), { flags: 'a' }) : undefined;
}

const rulesDir = fileURLToPath(new URL('../../rulesets', import.meta.url));

export interface TestService {
  readonly app: FastifyInstance;
  readonly context: ServiceContext;
  readonly db: Database;
  /** A key for each role, and one with no useful role. */
  readonly keys: Record<Role | 'nobody', string>;
  close(): Promise<void>;
}

/**
 * The service on an in-memory PGlite, migrated, with the bundled rule sets and a key per role;
 * pressure never degrades it unless the test gives its own capacity settings.
 */
export async function testService(options: Partial<AppSettings> = {}, db?: Database): Promise<TestService> {
  const database = db ?? (await openPglite(undefined));
  await migrate(database);
  const ruleSets = await loadRuleSets(rulesDir);
  const logStream = testLogStream();
  const { app, context } = await assembleApp({
    db: database,
    rules: ruleSets,
    capacity: CAPACITY_WITHOUT_PRESSURE,
    log: TEST_LOG,
    ...(logStream ? { logStream } : { logLevel: 'silent' }),
    ...options,
  });
  const keys = {} as Record<Role | 'nobody', string>;
  for (const role of [
    'assessor',
    'caseworker',
    'auditor',
    'policy-author',
    'approver',
    'operator',
    'alertmanager',
    'admin',
  ] as const) {
    keys[role] = (await createKey(database, `test-${role}`, [role])).key;
  }
  keys.nobody = (await createKey(database, 'test-nobody', ['policy-author'])).key;
  return {
    app,
    context,
    db: database,
    keys,
    async close() {
      await app.close();
      await database.close();
    },
  };
}
