import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_LOG_KEY } from './log.ts';

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(projectRoot, 'bin/entitle.js');

/** `entitle release freeze add` for the Christmas payment run, as the release and deploy tests add it. */
export const CHRISTMAS_FREEZE = [
  'release',
  'freeze',
  'add',
  '--from',
  '2026-12-22',
  '--to',
  '2026-12-24T18:00',
  '--reason',
  'Christmas payment run',
] as const;

/** The rule sets bundled with Entitle. */
export const BUNDLED_RULESETS = join(projectRoot, 'rulesets');

/**
 * Runs the real `entitle` binary, as a user would, and returns its exit code and output; `input`,
 * when given, is what is typed or piped to it.
 */
export async function runEntitle(
  args: readonly string[],
  env: Record<string, string> = {},
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: projectRoot,
    env: { ...process.env, ENTITLE_LOG_SIGNING_KEY: TEST_LOG_KEY, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input ?? '');
  const code = await new Promise<number>((resolve) => child.once('close', (status) => resolve(status ?? 1)));
  return { code, stdout, stderr };
}
