import { DEFAULT_CAPACITY, type CapacitySettings } from '../capacity/index.ts';

/**
 * Capacity for tests of other work (shadow evaluation, traces, replay): thresholds no test machine
 * reaches, so a busy CI runner never drops the very work a test is watching. Degradation itself is
 * tested in capacity.test.ts with pressure it induces.
 */
export const CAPACITY_WITHOUT_PRESSURE: CapacitySettings = {
  ...DEFAULT_CAPACITY,
  degradation: {
    ...DEFAULT_CAPACITY.degradation,
    thresholds: { eventLoopDelayMs: 3_600_000, poolWaiting: 1_000_000, queueDepth: 1_000_000 },
  },
};
