import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { EntitleError } from '../../errors/index.ts';
import { PrometheusClient, weeklyReport } from '../../monitoring/index.ts';
import { londonToInstant } from '../../uk-time/index.ts';
import { withOperationsHistory } from '../history.ts';
import { dataDirOption } from '../options.ts';
import { jsonOption, printJson } from '../output.ts';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('Operations reports.')
    .command('weekly')
    .description(
      'Write the weekly operations report (Markdown): each journey against its objective and the budget the week burned, latency, assessments by outcome, errors by kind, releases and rollbacks.',
    )
    .addOption(new Option('--prometheus <url>', 'Prometheus to read').env('PROMETHEUS_URL'))
    .option('--week-ending <date>', 'the end of the week reported, UK date (default: now)')
    .option('--out <file>', 'write to this file instead of standard output')
    .addOption(dataDirOption())
    .addOption(jsonOption('the week and the report (Markdown)'))
    .action(
      async (options: { prometheus?: string; weekEnding?: string; out?: string; dataDir?: string; json?: boolean }) => {
        if (!options.prometheus)
          throw new EntitleError('ENTITLE_INPUT_INVALID', 'the weekly report needs Prometheus', [
            {
              field: '--prometheus',
              message: "give --prometheus URL or PROMETHEUS_URL: the week's history is only there",
            },
          ]);
        const end = options.weekEnding ? new Date(londonToInstant(options.weekEnding, '--week-ending')) : new Date();
        const text = await withOperationsHistory(options, (history) =>
          weeklyReport(new PrometheusClient(options.prometheus!), history, end),
        );
        if (options.out) await writeFile(options.out, text);
        if (options.json)
          printJson({ weekEnding: end.toISOString(), markdown: text, ...(options.out ? { file: options.out } : {}) });
        else if (!options.out) process.stdout.write(text);
      },
    );
}
