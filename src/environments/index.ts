/**
 * The environments a release is promoted through (development, staging, production): their
 * names, where their Kubernetes overlays live, and the parity check between two of them
 * (`entitle env diff`). Read without loading the typed Kubernetes models, which are development
 * dependencies of src/manifests.
 */
export { ENVIRONMENTS, K8S_DIR, OVERLAYS, type Environment, type Overlay } from './layout.ts';
export { envDiff, formatEnvDiff, type EnvDiff } from './parity.ts';
