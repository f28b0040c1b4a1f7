export {
  canonicalJson,
  digestInputs,
  GENESIS_HASH,
  recordHash,
  recordHashFrom,
  recordHashPrefix,
  sha256,
  type Assignment,
  type DecisionDraft,
  type DecisionRecord,
} from './record.ts';
export {
  purgeInputs,
  readDecision,
  readsOf,
  storeBundle,
  storedBundle,
  type ReadLogEntry,
  type Reader,
} from './repository.ts';
export { checkLink, verifyChain, type ChainProblem, type ChainReport } from './verify.ts';
export { DecisionWriter, type WriterObserver } from './writer.ts';
export { ChainWatch } from './watch.ts';
export {
  decisionForKey,
  DuplicateSubmission,
  IDEMPOTENCY_KEY_HOURS,
  idempotencyClaim,
  pruneIdempotencyKeys,
  type IdempotencyClaim,
} from './idempotency.ts';
