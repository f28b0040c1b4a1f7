// npm run bench:engine — Entitle against GoRules zen and json-rules-engine on the same
// Universal Credit calculation and the same inputs, in one run, on one core.
//
// Inputs: every 2025/26 golden-test input of uk-universal-credit that yields a decision (the
// competitor implementations carry 2025/26 rates only). Before timing, all three engines must
// give the same award for every input, so the figures compare the same work.
//
// Each engine is timed in 5 runs; each run evaluates the inputs in turn for a fixed time after
// a warm-up. The figure is the median run. Ratios are against zen measured in the same process.
// Pin to one core with `taskset -c 0 npm run bench:engine` (the npm script does this).
import { fileURLToPath } from 'node:url';
import { loadRuleSet, readGoldenCases, type ExplainLevel, type RuleSet } from '../../src/rules/index.ts';
import { createJsonRulesEngineUc } from './competitors/json-rules-engine-uc.ts';
import type { UcInput } from './competitors/uc-input.ts';
import { createZenUc } from './competitors/zen-uc.ts';
import { median } from '../median.ts';

const RUNS = 5;
const RUN_SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const ucDir = fileURLToPath(new URL('../../rulesets/uk-universal-credit', import.meta.url));

interface Result {
  readonly name: string;
  readonly rates: number[];
  readonly median: number;
}

/** Evaluations per second: repeated calls for RUN_SECONDS, checked every 256 calls. */
function timeSync(run: (i: number) => unknown): number {
  let count = 0;
  const start = process.hrtime.bigint();
  const limit = start + BigInt(Math.round(RUN_SECONDS * 1e9));
  let now = start;
  while (now < limit) {
    for (let j = 0; j < 256; j++) run(count++);
    now = process.hrtime.bigint();
  }
  return count / (Number(now - start) / 1e9);
}

async function timeAsync(run: (i: number) => Promise<unknown>): Promise<number> {
  let count = 0;
  const start = process.hrtime.bigint();
  const limit = start + BigInt(Math.round(RUN_SECONDS * 1e9));
  let now = start;
  while (now < limit) {
    for (let j = 0; j < 16; j++) await run(count++);
    now = process.hrtime.bigint();
  }
  return count / (Number(now - start) / 1e9);
}

/** Evaluations per second with `inFlight` evaluations awaited together (zen runs each off the main thread). */
async function timeConcurrent(run: (i: number) => Promise<unknown>, inFlight: number): Promise<number> {
  let count = 0;
  const start = process.hrtime.bigint();
  const limit = start + BigInt(Math.round(RUN_SECONDS * 1e9));
  let now = start;
  while (now < limit) {
    await Promise.all(Array.from({ length: inFlight }, () => run(count++)));
    now = process.hrtime.bigint();
  }
  return count / (Number(now - start) / 1e9);
}

async function measure(name: string, timeOne: () => number | Promise<number>): Promise<Result> {
  await timeOne(); // warm-up run, not counted
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) rates.push(await timeOne());
  const result = { name, rates, median: median(rates) };
  console.error(`${name.padEnd(44)} ${rates.map((x) => Math.round(x).toLocaleString('en-GB').padStart(11)).join('')}`);
  return result;
}

function entitle(ruleSet: RuleSet, inputs: readonly UcInput[], level: ExplainLevel) {
  return () => timeSync((i) => ruleSet.assess(inputs[i % inputs.length], level));
}

async function main(): Promise<void> {
  const ruleSet = await loadRuleSet(ucDir);
  const inputs: UcInput[] = [];
  for (const golden of await readGoldenCases(ucDir, ruleSet)) {
    const date = String(golden.input.assessmentDate);
    if (golden.spec.expectError || date < '2025-04-07' || date >= '2026-04-06') continue;
    inputs.push(golden.input as unknown as UcInput);
  }
  const zen = await createZenUc();
  const jre = createJsonRulesEngineUc();

  // The three must agree on every input before any figure means anything.
  for (const input of inputs) {
    const ours = Math.round(ruleSet.assess(input, 'none').outcome.amount * 100);
    const [z, j] = await Promise.all([zen.evaluate(input), jre.evaluate(input)]);
    if (ours !== z || ours !== j)
      throw new Error(`engines disagree on ${input.applicationId}: entitle ${ours}, zen ${z}, json-rules-engine ${j}`);
  }

  // What each figure includes. Entitle's "assess" is the whole contract: validation of every
  // field, conversion to pence, evaluation and the outcome object; "evaluate" is the compiled
  // rules alone on input already validated and converted.
  const prepared = inputs.map((input) => ({
    household: ruleSet.program.functions.normalise(
      input.household as unknown as Record<string, unknown>,
      Number(input.assessmentDate.replaceAll('-', '')),
      [],
    ),
    params: ruleSet.program.parameters.snapshotOn(Number(input.assessmentDate.replaceAll('-', ''))).values,
  }));
  const fast = ruleSet.program.functions.fast;

  console.error(`${inputs.length} inputs, ${RUNS} runs of ${RUN_SECONDS}s each (evaluations/s per run):`);
  const results = [
    await measure('entitle evaluate (compiled rules only)', () =>
      timeSync((i) => {
        const p = prepared[i % prepared.length]!;
        return fast(p.household, p.params, []);
      }),
    ),
    await measure('entitle assess, no trace', entitle(ruleSet, inputs, 'none')),
    await measure('entitle assess, reasons', entitle(ruleSet, inputs, 'reasons')),
    await measure('entitle assess, full trace and reasons', entitle(ruleSet, inputs, 'trace')),
    await measure('GoRules zen 0.54 (one evaluation at a time)', () =>
      timeAsync((i) => zen.evaluate(inputs[i % inputs.length]!)),
    ),
    await measure('GoRules zen 0.54 (64 evaluations in flight)', () =>
      timeConcurrent((i) => zen.evaluate(inputs[i % inputs.length]!), 64),
    ),
    await measure('json-rules-engine 7.3 (one at a time)', () =>
      timeAsync((i) => jre.evaluate(inputs[i % inputs.length]!)),
    ),
  ];
  // The anchor is zen's better figure, so every ratio is the conservative one.
  const zenRate = Math.max(...results.filter((r) => r.name.startsWith('GoRules')).map((r) => r.median));
  console.log(
    `\n${inputs.length} inputs; median of ${RUNS} runs of ${RUN_SECONDS}s; ratio against zen's better figure (${Math.round(zenRate).toLocaleString('en-GB')}/s)\n`,
  );
  console.log('| engine | median evaluations/s | ratio to zen |');
  console.log('|---|---:|---:|');
  for (const r of results)
    console.log(
      `| ${r.name} | ${Math.round(r.median).toLocaleString('en-GB')} | ${(r.median / zenRate).toFixed(1)}x |`,
    );
}

await main();
