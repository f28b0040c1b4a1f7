/**
 * Service-level objectives stated as citizen journeys, and the multi-window burn-rate tiers they
 * alert on: the one definition the alert rules (src/ops), the canary analysis (src/manifests),
 * incidents, the status page and the console all read.
 */
export {
  budget,
  ROLLBACK_WITHIN_SECONDS,
  SLOS,
  TIERS,
  WINDOWS,
  type Priority,
  type Slo,
  type Tier,
  type TierName,
  type Window,
} from './slos.ts';
