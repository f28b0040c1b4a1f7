import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { TEST_LOG_KEY } from './log.ts';

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(projectRoot, 'bin/entitle.js');

/** The rule sets bundled with Entitle. */
export const BUNDLED_RULESETS = join(projectRoot, 'rulesets');

/** Runs the real `entitle` binary, as a user would, and returns its exit code and output. */
export async function runEntitle(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], {
      cwd: projectRoot,
      env: { ...process.env, ENTITLE_LOG_SIGNING_KEY: TEST_LOG_KEY, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
