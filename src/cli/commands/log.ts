import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { verifyReceipt } from '../../decisions/index.ts';
import { EntitleError } from '../../errors/index.ts';
import type { NoteError } from '../../log/index.ts';
import { DEFAULT_ORIGIN, generateSignerKey } from '../../log/index.ts';
import { EXIT } from '../exit.ts';
import { configuredLog, verifierFrom } from '../log-key.ts';
import { dataDirOption } from '../options.ts';
import { jsonOption, printJson } from '../output.ts';

/** `entitle log public-key`, `entitle log keygen` and `entitle receipt verify`. */
export function registerLog(program: Command): void {
  const log = program.command('log').description("The verifiable log's keys.");
  log
    .command('public-key')
    .description(
      "Print the log's verifier key (c2sp.org/signed-note): what anyone checking a checkpoint or receipt needs, and nothing secret.",
    )
    .addOption(dataDirOption())
    .addOption(jsonOption("the log's origin and verifier key"))
    .action(async (options: { dataDir?: string; json?: boolean }) => {
      const settings = await configuredLog(options);
      if (options.json)
        return printJson({ origin: settings.signer.verifier.name, verifierKey: settings.signer.verifier.text });
      process.stdout.write(`${settings.signer.verifier.text}\n`);
    });
  log
    .command('keygen')
    .description(
      'Make a new signing key for the log and print it on standard output (keep it secret: store it as ENTITLE_LOG_SIGNING_KEY); its verifier key goes to standard error.',
    )
    .addOption(new Option('--origin <name>', 'the name of the log, such as entitle.dwp.gov.uk').default(DEFAULT_ORIGIN))
    .addOption(jsonOption('the signing key and its verifier key (keep it secret)'))
    .action((options: { origin: string; json?: boolean }) => {
      let signer;
      try {
        signer = generateSignerKey(options.origin);
      } catch (error) {
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'the origin cannot name a key', [
          { field: '--origin', message: (error as NoteError).message },
        ]);
      }
      if (options.json) return printJson({ signingKey: signer.text, verifierKey: signer.verifier.text });
      process.stdout.write(`${signer.text}\n`);
      process.stderr.write(`verifier key: ${signer.verifier.text}\n`);
    });

  program
    .command('receipt')
    .description('Check a decision receipt.')
    .command('verify')
    .description(
      "Check a receipt (from GET /v1/decisions/{id}/receipt) offline, with nothing but the log's verifier key: no database, no service, no network. Exits 0 when the decision is in the signed log exactly as the receipt says, 1 naming every check that failed.",
    )
    .argument('<file>', 'the receipt (JSON)')
    .requiredOption('--key <file>', 'the verifier key (from "entitle log public-key"), or a file holding it')
    .addOption(new Option('--json', 'print the result as JSON'))
    .action(async (file: string, options: { key: string; json?: boolean }) => {
      const verifier = await verifierFrom(options.key);
      const text = await readFile(file, 'utf8').catch(() => {
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'the receipt cannot be read', [
          { field: 'file', message: `${file} cannot be read` },
        ]);
      });
      let receipt: unknown;
      try {
        receipt = JSON.parse(text);
      } catch {
        throw new EntitleError('ENTITLE_INPUT_INVALID', 'the receipt is not JSON', [
          { field: 'file', message: `${file} is not the JSON the service returned` },
        ]);
      }
      const result = verifyReceipt(receipt, verifier);
      if (!result.ok) process.exitCode = EXIT.failed;
      if (options.json) {
        printJson(result);
        return;
      }
      if (result.ok)
        process.stdout.write(
          `the receipt is true: decision ${result.decisionId} is leaf ${result.leafIndex} of the log of ${result.treeSize} decision${result.treeSize === 1 ? '' : 's'} signed by ${verifier.name}\n`,
        );
      else for (const problem of result.problems) process.stderr.write(`receipt check failed: ${problem}\n`);
    });
}
