/**
 * Test and benchmark harnesses: databases, the service in process and as real processes, the
 * nginx fleet, rule-set variants and the propagation measurement. Tests and benchmarks import
 * them from here; production code never does (the lint rule in eslint.config.js says so).
 */
export { CANARY, canaryInput, SHARED_HOUSEHOLD, testLogStream, testService, type TestService } from './app.ts';
export { CAPACITY_WITHOUT_PRESSURE } from './capacity.ts';
export { BUNDLED_RULESETS, CHRISTMAS_FREEZE, projectRoot, runEntitle } from './cli.ts';
export { TEST_POSTGRES_URL, testDatabases, type TestDatabase } from './databases.ts';
export {
  Fleet,
  NGINX,
  proveRollingDeploy,
  type FleetOptions,
  type PhaseResult,
  type RollingProof,
  type RollStep,
} from './fleet.ts';
export { freePort, installed, runLoad, sleep, spawnServer, type LoadResult, type ServerProcess } from './processes.ts';
export { switchTwice, whenServed } from './propagation.ts';
export {
  beforeUprating,
  compile,
  eventually,
  GOLDEN_SINGLE,
  household,
  taper,
  UC_DIR,
  ucBundle,
  UPRATING_DECLARATION,
  uprating,
  writeRuleSetDir,
} from './rule-variants.ts';
export { placeQueued, TEST_LOG, TEST_LOG_KEY, TEST_VERIFIER, verifyRecord } from './log.ts';
export { decisionDraft } from './drafts.ts';
export { requestFor, type FuzzRequest } from './fuzz.ts';
export { FaultProxy, type FaultMode } from './fault-proxy.ts';
export { runFaultScenario, type FaultRunOptions, type FaultRunResult } from './fault-run.ts';
export { alertGroup } from './alerts.ts';
