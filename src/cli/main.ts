import { Command, CommanderError } from 'commander';
import { PACKAGE_VERSION } from '../deploys/index.ts';
import { registerAssess } from './commands/assess.ts';
import { registerAudit } from './commands/audit.ts';
import { registerBackup } from './commands/backup.ts';
import { registerBench } from './commands/bench.ts';
import { registerDb } from './commands/db.ts';
import { registerDecisions } from './commands/decisions.ts';
import { registerDeploy } from './commands/deploy.ts';
import { registerEnv } from './commands/env.ts';
import { registerFlags } from './commands/flags.ts';
import { registerIncident } from './commands/incident/incident.ts';
import { registerKeys } from './commands/keys.ts';
import { registerLog } from './commands/log.ts';
import { registerNotify } from './commands/notify.ts';
import { registerOps } from './commands/ops.ts';
import { registerProbe } from './commands/probe.ts';
import { registerRelease } from './commands/release/release.ts';
import { registerReport } from './commands/report.ts';
import { registerRules } from './commands/rules.ts';
import { registerServe } from './commands/serve.ts';
import { registerSimulate } from './commands/simulate.ts';
import { registerSmoke } from './commands/smoke.ts';
import { registerStatus } from './commands/status.ts';
import { EXIT, reportError } from './exit.ts';

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
  registerKeys(program);
  registerAudit(program);
  registerLog(program);
  registerBackup(program);
  registerDecisions(program);
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
