import { syncGeneratedFiles } from '../ops/index.ts';
import { K8S_DIR, manifestFiles } from './overlays.ts';

/**
 * Writes deploy/k8s from the models, removing files no longer generated; with `check`, writes
 * nothing and lists what differs from what is committed (stale, missing or left over).
 */
export function writeManifests(root: string, check: boolean): Promise<{ written: string[]; stale: string[] }> {
  return syncGeneratedFiles(root, manifestFiles(), check, K8S_DIR);
}
