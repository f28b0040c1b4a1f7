import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { Option, type Command } from 'commander';
import { DecisionWriter } from '../../decisions/index.ts';
import { EntitleError } from '../../errors/index.ts';
import { activeVersions, resolveActiveRuleSets } from '../../releases/index.ts';
import { loadRuleSets } from '../../rules/index.ts';
import {
  DEFAULT_WINDOW,
  recordDecisions,
  simulate,
  SIMULATED_BENEFITS,
  simulationOptions,
  type AssessmentRequest,
  type SimulationOptions,
} from '../../simulate/index.ts';
import { withDatabase } from '../database.ts';
import { dataDirOption } from '../options.ts';
import { printJson } from '../output.ts';
import { BUNDLED_RULESETS, BUNDLED_RULESETS_HELP } from '../paths.ts';
import { count, progressBar, type Progress } from '../progress.ts';

function households(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100_000_000) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', '--households must be a whole number', [
      { field: '--households', message: 'enter how many households to generate, from 1 to 100000000, such as 10000' },
    ]);
  }
  return n;
}

/** Writes NDJSON lines, waiting whenever the stream asks it to (a pipe read slowly, say). */
async function writeLines(
  out: NodeJS.WritableStream,
  requests: Iterable<AssessmentRequest>,
  progress: Progress,
): Promise<number> {
  let lines: string[] = [];
  let written = 0;
  for (const request of requests) {
    lines.push(JSON.stringify(request));
    if (lines.length === 1_000) {
      written += lines.length;
      if (!out.write(`${lines.join('\n')}\n`)) await once(out, 'drain');
      lines = [];
      progress.update(written);
    }
  }
  if (lines.length > 0) out.write(`${lines.join('\n')}\n`);
  return written + lines.length;
}

/** The requests, each also written to `out` when given (a copy of what was recorded). */
function* copiedTo(requests: Iterable<AssessmentRequest>, out: WriteStream | undefined): Generator<AssessmentRequest> {
  for (const request of requests) {
    out?.write(`${JSON.stringify(request)}\n`);
    yield request;
  }
}

/** Opens --out, so a path that cannot be written is reported before any work is done. */
async function openOut(path: string): Promise<WriteStream> {
  const file = createWriteStream(path);
  try {
    await once(file, 'open');
  } catch {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${path} could not be written`, [
      { field: '--out', message: 'give a file in a folder that exists and that you can write to' },
    ]);
  }
  return file;
}

function describeRun(n: number, options: SimulationOptions): string {
  return `${count(n)} synthetic ${options.benefit} request${n === 1 ? '' : 's'} (seed ${options.seed}, assessment dates ${options.from} to ${options.to})`;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(
      'Generate realistic synthetic assessment requests (application ids start SYN-) as NDJSON. With --record, assess each with the rule set the database says is active and record the decisions, so there are decisions to backtest. See docs/simulation.md.',
    )
    .requiredOption('--households <n>', 'how many requests to generate')
    .option('--seed <n>', 'the same seed always gives the same requests', '1')
    .option('--benefit <benefit>', `the benefit: ${SIMULATED_BENEFITS.join(' or ')}`, 'universal-credit')
    .option('--from <date>', 'earliest assessment date', DEFAULT_WINDOW.from)
    .option(
      '--to <date>',
      'latest assessment date (every rate in the bundled rules is confirmed up to the default)',
      DEFAULT_WINDOW.to,
    )
    .option('--out <file>', 'write the requests to this file (without --record, the default is standard output)')
    .option('--record', 'assess each request and record the decision in the database')
    .addOption(
      new Option('--rules <dir>', 'rule sets that seed a benefit never served before, as for serve').default(
        BUNDLED_RULESETS,
        BUNDLED_RULESETS_HELP,
      ),
    )
    .addOption(dataDirOption())
    .addOption(
      new Option(
        '--json',
        'with --record, print what was recorded as JSON (without it, the requests are JSON lines already)',
      ),
    )
    .action(
      async (options: {
        json?: boolean;
        households: string;
        seed: string;
        benefit: string;
        from: string;
        to: string;
        out?: string;
        record?: boolean;
        rules: string;
        dataDir?: string;
      }) => {
        const n = households(options.households);
        const settings = simulationOptions(options);
        const requests = simulate(settings, n);
        const file = options.out ? await openOut(options.out) : undefined;
        const started = Date.now();
        try {
          if (!options.record) {
            const progress = progressBar('generating', n);
            await writeLines(file ?? process.stdout, requests, progress);
            progress.finish();
            process.stderr.write(`wrote ${describeRun(n, settings)} to ${options.out ?? 'standard output'}\n`);
            return;
          }
          const summary = await withDatabase(
            options,
            async (db) => {
              const { ruleSets } = await resolveActiveRuleSets(db, await loadRuleSets(options.rules));
              const ruleSet = ruleSets.get(settings.benefit);
              if (!ruleSet) {
                throw new EntitleError(
                  'ENTITLE_BENEFIT_UNKNOWN',
                  `no rule set for ${settings.benefit} is active or in ${options.rules}`,
                  [{ field: '--benefit', message: `enter one of: ${[...ruleSets.keys()].join(', ')}` }],
                );
              }
              // As the service does: a decision by a released version names the release.
              const releaseId = (await activeVersions(db)).get(settings.benefit)?.releaseId;
              const writer = new DecisionWriter(db);
              const progress = progressBar('recording', n);
              try {
                const result = await recordDecisions(copiedTo(requests, file), ruleSet, writer, {
                  ...(releaseId ? { assignment: { releaseId, reason: 'the active version' } } : {}),
                  onProgress: (done) => progress.update(done),
                });
                return { ...result, ruleSet };
              } finally {
                await writer.drain();
                progress.finish();
              }
            },
            'migrate',
          );
          const seconds = (Date.now() - started) / 1000;
          const refused = Object.entries(summary.refused).map(([code, k]) => `${count(k)} ${code}`);
          if (options.json)
            return printJson({
              recorded: summary.recorded,
              refused: summary.refused,
              ruleset: { id: summary.ruleSet.id, hash: summary.ruleSet.hash },
              seconds,
              ...(options.out ? { requests: options.out } : {}),
            });
          process.stderr.write(
            `recorded ${count(summary.recorded)} decisions of ${describeRun(n, settings)} with ${summary.ruleSet.id} ${summary.ruleSet.hash} in ${seconds.toFixed(1)} s (${count(Math.round(summary.recorded / seconds))}/s)` +
              `${refused.length > 0 ? `; not decided, so not recorded: ${refused.join(', ')}` : ''}${options.out ? `; requests written to ${options.out}` : ''}\n`,
          );
        } finally {
          if (file) {
            file.end();
            await once(file, 'close');
          }
        }
      },
    );
}
