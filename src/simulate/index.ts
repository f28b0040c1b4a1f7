/**
 * Synthetic assessment requests: realistic, seeded, and always recognisable as synthetic. They
 * give a backtest decisions to replay and a benchmark load to measure, without personal data.
 * This is the module's public surface.
 */
import { draftOf, type Assignment, type DecisionRecord, type DecisionWriter } from '../decisions/index.ts';
import { EntitleError } from '../errors/index.ts';
import { dateOfDay, dayNumber, formatIsoDate, parseIsoDate, type RuleSet } from '../rules/index.ts';
import { childBenefitHousehold, Random, universalCreditHousehold } from './households.ts';

export { CHILD_BENEFIT_DISTRIBUTIONS, Random, UC_DISTRIBUTIONS, type Band, type Weighted } from './households.ts';

/** Every synthetic application reference starts with this, so no one mistakes one for a claim. */
export const SYNTHETIC_PREFIX = 'SYN-';

/**
 * The 2025/26 rate year: every Universal Credit rate in the bundled rule set is confirmed for
 * it, so every request in this window can be decided. From 6 April 2026 some rates are still
 * unconfirmed, and a request that needs one is refused (ENTITLE_PARAMETER_UNCONFIRMED).
 */
export const DEFAULT_WINDOW = Object.freeze({ from: '2025-04-07', to: '2026-04-05' });

const GENERATORS = {
  'universal-credit': { code: 'UC', household: universalCreditHousehold },
  'child-benefit': { code: 'CB', household: childBenefitHousehold },
} as const;

export type SimulatedBenefit = keyof typeof GENERATORS;
export const SIMULATED_BENEFITS = Object.keys(GENERATORS) as SimulatedBenefit[];

/** An assessment request as POST /v1/assessments and `entitle assess` take it. */
export interface AssessmentRequest {
  readonly benefit: string;
  readonly applicationId: string;
  readonly assessmentDate: string;
  readonly household: Record<string, unknown>;
}

export interface SimulationOptions {
  readonly benefit: SimulatedBenefit;
  /** A whole number from 0 to 4,294,967,295: the same seed gives the same requests. */
  readonly seed: number;
  /** Assessment dates are spread evenly over this window, both days included. */
  readonly from: string;
  readonly to: string;
}

export function isSynthetic(applicationId: string): boolean {
  return applicationId.startsWith(SYNTHETIC_PREFIX);
}

/** Checks options from people (the command line), naming every field at fault. */
export function simulationOptions(
  input: {
    benefit?: string;
    seed?: string | number;
    from?: string;
    to?: string;
  },
  fields = { benefit: '--benefit', seed: '--seed', from: '--from', to: '--to' },
): SimulationOptions {
  const problems = [];
  const benefit = input.benefit ?? 'universal-credit';
  if (!(SIMULATED_BENEFITS as string[]).includes(benefit))
    problems.push({ field: fields.benefit, message: `enter one of: ${SIMULATED_BENEFITS.join(', ')}` });
  const seed = Number(input.seed ?? 1);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff)
    problems.push({ field: fields.seed, message: 'enter a whole number from 0 to 4294967295' });
  const from = input.from ?? DEFAULT_WINDOW.from;
  const to = input.to ?? DEFAULT_WINDOW.to;
  if (parseIsoDate(from) === undefined)
    problems.push({ field: fields.from, message: 'enter a date such as 2025-04-07' });
  if (parseIsoDate(to) === undefined) problems.push({ field: fields.to, message: 'enter a date such as 2026-04-05' });
  else if (parseIsoDate(from) !== undefined && to < from)
    problems.push({ field: fields.to, message: `enter a date on or after ${from}` });
  if (problems.length > 0)
    throw new EntitleError('ENTITLE_INPUT_INVALID', 'the simulation options are not valid', problems);
  return { benefit: benefit as SimulatedBenefit, seed, from, to };
}

/**
 * `count` synthetic requests, in order. The sequence depends only on the options: request i is
 * the same whatever the count, so a larger run extends a smaller one.
 */
export function* simulate(options: SimulationOptions, count: number): Generator<AssessmentRequest> {
  const { code, household } = GENERATORS[options.benefit];
  const random = new Random(options.seed);
  const first = dayNumber(parseIsoDate(options.from)!);
  const last = dayNumber(parseIsoDate(options.to)!);
  for (let i = 1; i <= count; i++) {
    const assessmentDate = formatIsoDate(dateOfDay(random.int(first, last)));
    yield {
      benefit: options.benefit,
      applicationId: `${SYNTHETIC_PREFIX}${code}-${options.seed}-${String(i).padStart(8, '0')}`,
      assessmentDate,
      household: household(random, assessmentDate),
    };
  }
}

export interface RecordSummary {
  readonly recorded: number;
  /** Requests the rules could not decide, by error code (a rate unconfirmed on the date, say). */
  readonly refused: Readonly<Record<string, number>>;
}

/**
 * Assesses each request as POST /v1/assessments does and records the decision through the
 * writer. Writes are issued `concurrency` at a time and all awaited together, so the writer's
 * group commit fills its transactions; awaiting each write in turn would commit one at a time.
 * A request the rules refuse is counted by its error code and not recorded, as the service
 * records nothing it did not decide.
 */
export async function recordDecisions(
  requests: Iterable<AssessmentRequest>,
  ruleSet: RuleSet,
  writer: DecisionWriter,
  options: {
    concurrency?: number;
    /** Recorded with each decision, as the service records which release's version decided. */
    assignment?: Assignment;
    onProgress?: (done: number) => void;
  } = {},
): Promise<RecordSummary> {
  const concurrency = options.concurrency ?? 2_000;
  const refused: Record<string, number> = {};
  let recorded = 0;
  let done = 0;
  let writes: Promise<DecisionRecord>[] = [];
  const flush = async () => {
    recorded += (await Promise.all(writes)).length;
    writes = [];
    options.onProgress?.(done);
  };
  for (const request of requests) {
    done++;
    let assessment;
    try {
      assessment = ruleSet.assess(request, 'reasons');
    } catch (error) {
      const code = error instanceof EntitleError ? error.code : 'ENTITLE_EVALUATION_FAILED';
      refused[code] = (refused[code] ?? 0) + 1;
      continue;
    }
    writes.push(writer.write(draftOf(assessment, request, options.assignment), ruleSet.program.bundle));
    if (writes.length >= concurrency) await flush();
  }
  await flush();
  return { recorded, refused };
}
