/**
 * The backtest's worker thread: compiles the candidate and each baseline version once, then
 * compares batches of stored decisions and sends back a tally of each batch (tally.ts). pool.ts
 * starts it; report.ts merges the tallies.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Comparator } from '../comparison/index.ts';
import { EntitleError } from '../errors/index.ts';
import { ruleSetFromBundle, type RuleSet } from '../rules/index.ts';
import { tallyBatch, type BatchMessage, type WorkerSetup } from './tally.ts';

/**
 * What the main thread is told of a failure: an EntitleError's code and message (which never
 * carry input values); of anything else its message, unless it is a JSON syntax error, whose
 * message quotes the text it could not parse: the inputs.
 */
function describeFailure(error: unknown): { error: string; code?: string } {
  if (error instanceof EntitleError) return { error: error.message, code: error.code };
  if (error instanceof SyntaxError) return { error: 'stored inputs are not valid JSON' };
  return { error: error instanceof Error ? `${error.name}: ${error.message}` : 'an unknown failure' };
}

/** The worker itself: one candidate, the baselines compiled as they first appear. */
function serve(setup: WorkerSetup): void {
  const candidate = ruleSetFromBundle(setup.candidate, 'the candidate rule set');
  const compiled = new Map<string, Comparator>();
  const comparatorFor = (hash: string, bundles: Readonly<Record<string, unknown>>): Comparator => {
    let comparator = compiled.get(hash);
    if (!comparator) {
      const bundle = bundles[hash];
      if (hash !== candidate.hash && bundle === undefined)
        throw new Error(`the worker was not sent rule-set version ${hash}`);
      // Decisions the candidate itself made (in a canary, say) are compared with it: identical.
      const baseline: RuleSet =
        hash === candidate.hash ? candidate : ruleSetFromBundle(bundle, `stored rule set ${hash}`);
      comparator = new Comparator(baseline, candidate, setup.expectations);
      compiled.set(hash, comparator);
    }
    return comparator;
  };
  parentPort!.on('message', (message: BatchMessage) => {
    try {
      const comparators = message.hashes.map((hash) => comparatorFor(hash, message.bundles));
      const tally = tallyBatch(message.seq, JSON.parse(message.inputs) as unknown[], message.baselines, comparators);
      parentPort!.postMessage({ seq: message.seq, tally }, [tally.changes.buffer as ArrayBuffer]);
    } catch (error) {
      parentPort!.postMessage({ seq: message.seq, ...describeFailure(error) });
    }
  });
  parentPort!.postMessage({ ready: true });
}

const setup = workerData as WorkerSetup | undefined;
if (parentPort && setup?.role === 'entitle-backtest') serve(setup);
