import { verifyChain, type ChainReport } from '../decisions/index.ts';
import { integrate, LOGS, logKeysOf, parseSignerKey, type ExternalCheckpoint, type LogSettings } from '../log/index.ts';
import type { Database } from '../store/index.ts';

/** The log key of every test service and test process: a fixed key, so tests can check what they sign. */
export const TEST_LOG_KEY = 'PRIVATE+KEY+entitle.test+0e36dbc4+AY7ZQlBFwZGwDOXckRbJ6qXH/8j1nbRCFZyrlJHN2L3D';

const signer = parseSignerKey(TEST_LOG_KEY);

export const TEST_LOG: LogSettings = {
  ...logKeysOf([signer]),
  origin: signer.name,
  checkpointDir: undefined,
  intervalMs: 100,
  keySource: 'the test key',
};

export const TEST_VERIFIER = signer.verifier;

/** Places every queued leaf of both logs now, as the sequencer would on its next round. */
export async function placeQueued(db: Database): Promise<void> {
  for (const log of LOGS) {
    let placed = await integrate(db, log, signer, signer.name);
    while (placed) placed = await integrate(db, log, signer, signer.name);
  }
}

/** Places what is queued, then verifies the record with the test key. */
export async function verifyRecord(
  db: Database,
  checkpoints: readonly ExternalCheckpoint[] = [],
): Promise<ChainReport> {
  await placeQueued(db);
  return verifyChain(db, { verifier: TEST_VERIFIER, checkpoints });
}
