import { createRequire } from 'node:module';
import { Command } from 'commander';

/**
 * Entitle's version, read here rather than from deploys/ so that `entitle --version` loads
 * nothing but commander: the same package.json that deploys' build information reads.
 */
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** The `entitle` program with no commands yet: its name, version and parsing rules. */
export function baseProgram(): Command {
  return (
    new Command('entitle')
      .description('Entitle: an exact, explainable benefits rules engine.')
      .version(VERSION)
      // Options after a command are that command's: `entitle deploy record --version 1.4.2` is the
      // version deployed, not a request for Entitle's own.
      .enablePositionalOptions()
      .showHelpAfterError('(run with --help for usage)')
      .exitOverride()
  );
}
