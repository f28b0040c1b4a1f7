import type { Command } from 'commander';
import { baseProgram } from './base.ts';
import { registerAssess } from './commands/assess.ts';
import { registerAudit } from './commands/audit.ts';
import { registerBackup } from './commands/backup.ts';
import { registerBench } from './commands/bench.ts';
import { registerDb } from './commands/db.ts';
import { registerDecisions } from './commands/records/decisions.ts';
import { registerSubject } from './commands/records/subject.ts';
import { registerDeploy } from './commands/deploy/deploy.ts';
import { registerEnv } from './commands/env.ts';
import { registerFlags } from './commands/flags/flags.ts';
import { registerIncident } from './commands/incident/incident.ts';
import { registerKeys } from './commands/keys.ts';
import { registerLog } from './commands/log.ts';
import { registerLogin } from './commands/login.ts';
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

/**
 * The whole command tree, every command loaded: for the generated reference, the tests, and help
 * or a mistyped command, which need every name. Running one command loads only that one (main.ts).
 */
export function buildProgram(): Command {
  const program = baseProgram();
  registerServe(program);
  registerAssess(program);
  registerRules(program);
  registerKeys(program);
  registerLogin(program);
  registerAudit(program);
  registerLog(program);
  registerBackup(program);
  registerDecisions(program);
  registerSubject(program);
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
