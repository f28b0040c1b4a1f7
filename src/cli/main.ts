import { CommanderError, type Command } from 'commander';
import { baseProgram } from './base.ts';
import { EXIT, reportError } from './exit.ts';

type Register = (program: Command) => void;

/**
 * Each top-level command and where it is defined, so that running one loads only its own module
 * and what that imports: `entitle --version` loads no command and `entitle assess` no database.
 * A test checks this table against the whole tree (tree.ts).
 */
export const COMMAND_MODULES: Readonly<Record<string, () => Promise<Register>>> = {
  serve: async () => (await import('./commands/serve.ts')).registerServe,
  assess: async () => (await import('./commands/assess.ts')).registerAssess,
  rules: async () => (await import('./commands/rules.ts')).registerRules,
  keys: async () => (await import('./commands/keys.ts')).registerKeys,
  login: async () => (await import('./commands/login.ts')).registerLogin,
  logout: async () => (await import('./commands/login.ts')).registerLogin,
  whoami: async () => (await import('./commands/login.ts')).registerLogin,
  audit: async () => (await import('./commands/audit.ts')).registerAudit,
  log: async () => (await import('./commands/log.ts')).registerLog,
  receipt: async () => (await import('./commands/log.ts')).registerLog,
  backup: async () => (await import('./commands/backup.ts')).registerBackup,
  restore: async () => (await import('./commands/backup.ts')).registerBackup,
  decisions: async () => (await import('./commands/records/decisions.ts')).registerDecisions,
  replay: async () => (await import('./commands/records/decisions.ts')).registerDecisions,
  subject: async () => (await import('./commands/records/subject.ts')).registerSubject,
  db: async () => (await import('./commands/db.ts')).registerDb,
  simulate: async () => (await import('./commands/simulate.ts')).registerSimulate,
  release: async () => (await import('./commands/release/release.ts')).registerRelease,
  flags: async () => (await import('./commands/flags/flags.ts')).registerFlags,
  incident: async () => (await import('./commands/incident/incident.ts')).registerIncident,
  deploy: async () => (await import('./commands/deploy/deploy.ts')).registerDeploy,
  env: async () => (await import('./commands/env.ts')).registerEnv,
  notify: async () => (await import('./commands/notify.ts')).registerNotify,
  ops: async () => (await import('./commands/ops.ts')).registerOps,
  status: async () => (await import('./commands/status.ts')).registerStatus,
  probe: async () => (await import('./commands/probe.ts')).registerProbe,
  smoke: async () => (await import('./commands/smoke.ts')).registerSmoke,
  report: async () => (await import('./commands/report.ts')).registerReport,
  bench: async () => (await import('./commands/bench.ts')).registerBench,
};

/**
 * The program for these arguments: the base and the one command named first, or, for help, a
 * mistyped command or none, the whole tree.
 */
async function programFor(argv: readonly string[]): Promise<Command> {
  const name = argv.find((arg) => !arg.startsWith('-'));
  const asksVersionOnly = name === undefined && argv.some((arg) => arg === '--version' || arg === '-V');
  if (asksVersionOnly) return baseProgram();
  const load = name !== undefined && Object.hasOwn(COMMAND_MODULES, name) ? COMMAND_MODULES[name] : undefined;
  if (!load) return (await import('./tree.ts')).buildProgram();
  const program = baseProgram();
  (await load())(program);
  return program;
}

/** Runs the command line; resolves to the exit status rather than exiting, so it can be tested. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    const program = await programFor(argv);
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
