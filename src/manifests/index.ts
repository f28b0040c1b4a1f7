/**
 * Kubernetes manifests from typed models: the base (Argo Rollouts canary judged by the service's
 * own SLIs, migration Job, autoscaler, disruption budget, network policy) and the dev, staging and
 * production overlays, written to deploy/k8s by `entitle deploy manifests`; and `entitle env diff`.
 */
export { CANARY_METRICS, canaryAnalysisTemplate, scoped, type CanaryMetric } from './analysis.ts';
export {
  baseObjects,
  BASE_CONFIG,
  CANARY_STEPS,
  CONTAINER_SECURITY,
  DRAIN_SECONDS,
  migrationJob,
  POD_SECURITY,
  replayCheckJob,
  SCHEDULED_JOBS,
  SECRET,
  SECRET_KEYS,
  type ScheduledJob,
} from './base.ts';
export {
  configDigest,
  K8S_DIR,
  manifestFiles,
  OVERLAY_SPECS,
  overlayConfig,
  OVERLAYS,
  type Overlay,
} from './overlays.ts';
export { writeManifests } from './write.ts';
