import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { Option, type Command } from 'commander';
import { EntitleError } from '../../errors/index.ts';
import {
  DEFAULT_WINDOW,
  simulate,
  SIMULATED_BENEFITS,
  simulationOptions,
  type AssessmentRequest,
  type SimulationOptions,
} from '../../simulate/index.ts';
import { connection } from '../client.ts';
import { printJson } from '../output.ts';
import { count, progressBar, type Progress } from '../progress.ts';

function households(text: string, most: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > most) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', '--households must be a whole number', [
      { field: '--households', message: `enter how many households to generate, from 1 to ${most}, such as 10000` },
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

/** What POST /v1/simulations answers when the recording is done. */
interface Recorded {
  recorded: number;
  refused: Record<string, number>;
  ruleset: { id: string; hash: string };
  seconds: number;
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(
      'Generate realistic synthetic assessment requests (application ids start SYN-) as NDJSON. With --record, the service assesses each with its active version and records the decisions, so there are decisions to backtest (never in production). See docs/simulation.md.',
    )
    .requiredOption('--households <n>', 'how many requests to generate (with --record, at most 1000000 a run)')
    .option('--seed <n>', 'the same seed always gives the same requests', '1')
    .option('--benefit <benefit>', `the benefit: ${SIMULATED_BENEFITS.join(' or ')}`, 'universal-credit')
    .option('--from <date>', 'earliest assessment date', DEFAULT_WINDOW.from)
    .option(
      '--to <date>',
      'latest assessment date (every rate in the bundled rules is confirmed up to the default)',
      DEFAULT_WINDOW.to,
    )
    .option('--out <file>', 'write the requests to this file (without --record, the default is standard output)')
    .option(
      '--record',
      'have the service (ENTITLE_URL, or entitle login) assess each request and record the decision; needs the policy-author role',
    )
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
      }) => {
        const n = households(options.households, options.record ? 1_000_000 : 100_000_000);
        const settings = simulationOptions(options);
        const file = options.out ? await openOut(options.out) : undefined;
        try {
          if (!options.record) {
            const progress = progressBar('generating', n);
            await writeLines(file ?? process.stdout, simulate(settings, n), progress);
            progress.finish();
            process.stderr.write(`wrote ${describeRun(n, settings)} to ${options.out ?? 'standard output'}\n`);
            return;
          }
          const client = await connection();
          const summary = await client.work<Recorded>(
            '/v1/simulations',
            { households: n, seed: settings.seed, benefit: settings.benefit, from: settings.from, to: settings.to },
            'recording',
          );
          // The requests recorded, written here: the same seed gives the same requests.
          if (file) await writeLines(file, simulate(settings, n), progressBar('writing', 0));
          const refused = Object.entries(summary.refused).map(([code, k]) => `${count(k)} ${code}`);
          if (options.json)
            return printJson({
              recorded: summary.recorded,
              refused: summary.refused,
              ruleset: summary.ruleset,
              seconds: summary.seconds,
              ...(options.out ? { requests: options.out } : {}),
            });
          process.stderr.write(
            `recorded ${count(summary.recorded)} decisions of ${describeRun(n, settings)} with ${summary.ruleset.id} ${summary.ruleset.hash} in ${summary.seconds.toFixed(1)} s (${count(Math.round(summary.recorded / Math.max(summary.seconds, 0.001)))}/s) at ${client.url}` +
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
