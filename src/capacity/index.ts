/**
 * Capacity: admission control (a bounded priority queue, 503 with Retry-After at once when full)
 * and graceful degradation (non-critical work dropped step by step under pressure, restored with
 * hysteresis). See docs/capacity.md for the model and the settings.
 */
export {
  Admission,
  DEFAULT_ADMISSION,
  PRIORITIES,
  type AdmissionSettings,
  type Priority,
  type RejectReason,
} from './admission.ts';
export {
  Degradation,
  DEFAULT_DEGRADATION,
  DEGRADATION_STEPS,
  type DegradationLog,
  type DegradationSettings,
  type DegradationSources,
  type DegradationStep,
  type PressureReading,
  type PressureThresholds,
} from './degradation.ts';
export { capacitySettingsFrom, DEFAULT_CAPACITY, type CapacitySettings } from './settings.ts';
