import { EntitleError } from '../errors/index.ts';
import { DEFAULT_ADMISSION, type AdmissionSettings } from './admission.ts';
import { DEFAULT_DEGRADATION, type DegradationSettings } from './degradation.ts';

export interface CapacitySettings {
  readonly admission: AdmissionSettings;
  readonly degradation: DegradationSettings;
}

export const DEFAULT_CAPACITY: CapacitySettings = { admission: DEFAULT_ADMISSION, degradation: DEFAULT_DEGRADATION };

/** The ENTITLE_ADMISSION_* and ENTITLE_PRESSURE_* settings (docs/capacity.md); every problem is named. */
export function capacitySettingsFrom(env: Readonly<Record<string, string | undefined>>): CapacitySettings {
  const problems: { field: string; message: string }[] = [];
  const read = (name: string, fallback: number, min: number): number => {
    const text = env[name];
    if (text === undefined || text.trim() === '') return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) {
      problems.push({ field: name, message: `give a whole number of at least ${min}` });
      return fallback;
    }
    return n;
  };
  const a = DEFAULT_ADMISSION;
  const d = DEFAULT_DEGRADATION;
  const maxConcurrent = read('ENTITLE_ADMISSION_MAX_CONCURRENT', a.maxConcurrent, 1);
  const settings: CapacitySettings = {
    admission: {
      maxConcurrent,
      queueLimit: read('ENTITLE_ADMISSION_QUEUE_LIMIT', a.queueLimit, 0),
      maxWaitMs: read('ENTITLE_ADMISSION_MAX_WAIT_MS', a.maxWaitMs, 1),
      citizenReserved: Math.min(read('ENTITLE_ADMISSION_CITIZEN_RESERVED', a.citizenReserved, 0), maxConcurrent - 1),
    },
    degradation: {
      thresholds: {
        eventLoopDelayMs: read('ENTITLE_PRESSURE_EVENT_LOOP_MS', d.thresholds.eventLoopDelayMs, 1),
        poolWaiting: read('ENTITLE_PRESSURE_POOL_WAITING', d.thresholds.poolWaiting, 1),
        queueDepth: read('ENTITLE_PRESSURE_QUEUE_DEPTH', d.thresholds.queueDepth, 1),
      },
      tickMs: read('ENTITLE_PRESSURE_TICK_MS', d.tickMs, 10),
      sustainTicks: read('ENTITLE_PRESSURE_SUSTAIN_TICKS', d.sustainTicks, 1),
      calmMs: read('ENTITLE_PRESSURE_CALM_MS', d.calmMs, 0),
    },
  };
  if (problems.length > 0)
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the capacity settings cannot be read', problems);
  return settings;
}
