export { checkpointText, openCheckpoint, parseCheckpointText, signCheckpoint, type Checkpoint } from './checkpoint.ts';
export {
  EMPTY_ROOT,
  leafHash,
  rootFromInclusion,
  TreeEdge,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from './merkle.ts';
export {
  generateSignerKey,
  NoteError,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  ringName,
  signNote,
  type SignerKey,
  type Signers,
  type VerifierKey,
  type Verifiers,
} from './note.ts';
export {
  consistencyProofAt,
  inclusionProofAt,
  integrate,
  latestCheckpoint,
  LogIntegrityError,
  logOrigin,
  LOGS,
  openStored,
  placementOf,
  storedCheckpoints,
  storedRootAt,
  type Integrated,
  type LogKeys,
  type LogName,
  type Placement,
  type StoredCheckpoint,
} from './store.ts';
export { readCheckpointFiles, writeCheckpointFile, type CheckpointFile } from './files.ts';
export {
  DEFAULT_ORIGIN,
  KEY_FILE,
  logKeysOf,
  logSettingsFrom,
  LogSettingsError,
  type LogSettings,
} from './settings.ts';
export { Sequencer, type SequencerEvents } from './sequencer.ts';
export { verifyLog, type ExternalCheckpoint, type LeafCheck, type LeafSource, type LogReport } from './verify.ts';
