import { isDeepStrictEqual } from 'node:util';
import type { DecisionRecord } from '../decisions/index.ts';
import { EntitleError } from '../errors/index.ts';
import type { RuleSet } from '../rules/index.ts';

/** Differences between two JSON values, as paths: `outcome.elements.standardAllowance`. */
export function differences(
  recorded: unknown,
  replayed: unknown,
  path = '',
): { path: string; recorded: unknown; replayed: unknown }[] {
  if (isDeepStrictEqual(recorded, replayed)) return [];
  const bothObjects =
    recorded !== null &&
    replayed !== null &&
    typeof recorded === 'object' &&
    typeof replayed === 'object' &&
    Array.isArray(recorded) === Array.isArray(replayed);
  if (!bothObjects) return [{ path: path || '(whole)', recorded, replayed }];
  const keys = new Set([...Object.keys(recorded), ...Object.keys(replayed)]);
  return [...keys].flatMap((key) =>
    differences(
      (recorded as Record<string, unknown>)[key],
      (replayed as Record<string, unknown>)[key],
      path ? `${path}.${key}` : key,
    ),
  );
}

/** A recorded decision made again with the running engine: what it gave, and where it differs. */
export interface Replayed {
  readonly recorded: { readonly outcome: unknown; readonly explanation: readonly string[] };
  readonly replayed:
    { readonly outcome: unknown; readonly explanation: readonly string[] } | { readonly error: string };
  readonly differences: readonly { path: string; recorded: unknown; replayed: unknown }[];
}

/** Makes a recorded decision again from its inputs with its own rule set, and compares. */
export function replayRecord(
  record: Pick<DecisionRecord, 'inputs' | 'outcome' | 'explanation'>,
  ruleSet: RuleSet,
): Replayed {
  let replayed: Replayed['replayed'];
  try {
    const assessment = ruleSet.assess(record.inputs, 'reasons');
    replayed = { outcome: assessment.outcome, explanation: assessment.explanation };
  } catch (error) {
    replayed = { error: error instanceof EntitleError ? error.code : 'ENTITLE_INTERNAL' };
  }
  const recorded = { outcome: record.outcome, explanation: record.explanation };
  return { recorded, replayed, differences: differences(recorded, replayed) };
}
