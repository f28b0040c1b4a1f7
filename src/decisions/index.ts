export {
  canonicalJson,
  digestInputs,
  draftOf,
  GENESIS_HASH,
  hashedContent,
  recordHash,
  releaseColumnMatches,
  sha256,
  type Assignment,
  type DecisionDraft,
  type DecisionRecord,
} from './record.ts';
export {
  inputsHeldBefore,
  purgeInputs,
  readDecision,
  readsOf,
  storeBundle,
  storedBundle,
  unacknowledgedDecisions,
  type ReadLogEntry,
  type Reader,
  type UnacknowledgedDecision,
} from './repository.ts';
export { recordProblem, verifyChain, type ChainProblem, type ChainReport, type VerifyOptions } from './verify.ts';
export {
  checkAgainstLog,
  RECEIPT_FORMAT,
  receiptFor,
  verifyReceipt,
  type LogCheck,
  type Receipt,
  type ReceiptCheck,
  type ReceiptResult,
} from './receipt.ts';
export {
  DecisionInDoubt,
  DecisionWriter,
  type UnacknowledgedReason,
  type WriterObserver,
  type WriterOptions,
} from './writer.ts';
export { ChainWatch } from './watch.ts';
export {
  decisionForKey,
  DuplicateSubmission,
  IDEMPOTENCY_KEY_HOURS,
  idempotencyClaim,
  pruneIdempotencyKeys,
  type IdempotencyClaim,
} from './idempotency.ts';
export { purgeCutoff } from './retention.ts';
