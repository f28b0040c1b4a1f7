import { Command, CommanderError } from 'commander';
import { registerAssess } from './commands/assess.ts';
import { registerBench } from './commands/bench.ts';
import { registerData } from './commands/data.ts';
import { registerDb } from './commands/db.ts';
import { registerDeploy, registerEnv } from './commands/deploy.ts';
import { registerFlags } from './commands/flags.ts';
import { registerIncident, registerNotify } from './commands/incident.ts';
import { registerServe } from './commands/serve.ts';
import { registerSimulate } from './commands/simulate.ts';
import { registerOps, registerProbe, registerReport, registerSmoke, registerStatus } from './commands/ops.ts';
import { registerRelease } from './commands/release.ts';
import { registerRules } from './commands/rules.ts';
import { EXIT, reportError } from './exit.ts';
import { PACKAGE_VERSION } from '../deploys/index.ts';

/** Builds the command tree; used by the `entitle` binary and by the docs generator. */
export function buildProgram(): Command {
  const program = new Command('entitle')
    .description('Entitle: an exact, explainable benefits rules engine.')
    .version(PACKAGE_VERSION)
    // Options after a command are that command's: `entitle deploy record --version 1.4.2` is the
    // version deployed, not a request for Entitle's own.
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerServe(program);
  registerAssess(program);
  registerRules(program);
  registerData(program);
  registerDb(program);
  registerSimulate(program);
  registerRelease(program);
  registerFlags(program);
  registerIncident(program);
  registerDeploy(program);
  registerEnv(program);
  registerNotify(program);
  registerOps(program);
  registerStatus(program);
  registerProbe(program);
  registerSmoke(program);
  registerReport(program);
  registerBench(program);
  return program;
}

/** Runs the command line; resolves to the exit status rather than exiting, so it can be tested. */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    process.exitCode = EXIT.ok;
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? EXIT.ok);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successful exits; usage errors are the caller's to fix.
      return error.exitCode === 0 ? EXIT.ok : EXIT.invalidInput;
    }
    return reportError(error);
  }
}
