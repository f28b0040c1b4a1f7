import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { EntitleError, errorRegistry, type ErrorCode, type Problem } from '../errors/index.ts';

/** Where `npm start` serves: the address used when none is configured. */
export const DEFAULT_URL = 'http://127.0.0.1:3000';

/**
 * The file `entitle login` keeps the service's address and the person's key in: config.json in
 * the XDG configuration directory ($XDG_CONFIG_HOME/entitle, by default ~/.config/entitle), as
 * gh and kubectl keep theirs, readable only by its owner.
 */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'entitle', 'config.json');
}

export interface Config {
  readonly url?: string;
  readonly apiKey?: string;
}

export async function readConfig(path = configPath()): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return {};
  }
  if (((await stat(path)).mode & 0o077) !== 0)
    process.stderr.write(`warning: ${path} holds your API key and others can read it: run chmod 600 ${path}\n`);
  try {
    const parsed = JSON.parse(text) as Config;
    return {
      ...(typeof parsed.url === 'string' ? { url: parsed.url } : {}),
      ...(typeof parsed.apiKey === 'string' ? { apiKey: parsed.apiKey } : {}),
    };
  } catch {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${path} is not valid JSON`, [
      { file: path, message: 'run "entitle login --url URL" again, or delete the file' },
    ]);
  }
}

/** Writes the configuration readable and writable by its owner only (0600, in a 0700 folder). */
export async function writeConfig(config: Config, path = configPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
}

export async function removeConfig(path = configPath()): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch {
    return false;
  }
}

/** The service's address, checked: http or https, no credentials in it. */
export function checkUrl(text: string, field: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    url = new URL('invalid:');
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.username || url.password)
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${field} is not the address of a service`, [
      { field, message: `give an http or https address without a user name or password, such as ${DEFAULT_URL}` },
    ]);
  return url.toString().replace(/\/$/, '');
}

/**
 * The service and the key to use: ENTITLE_URL and ENTITLE_API_KEY when set, else what `entitle
 * login` saved, else the local address `npm start` serves on (and no key).
 */
export async function connection(env: NodeJS.ProcessEnv = process.env): Promise<ServiceClient> {
  const saved = await readConfig(configPath(env));
  const url = env.ENTITLE_URL
    ? checkUrl(env.ENTITLE_URL, 'ENTITLE_URL')
    : saved.url
      ? checkUrl(saved.url, configPath(env))
      : DEFAULT_URL;
  const apiKey = env.ENTITLE_API_KEY || saved.apiKey;
  return new ServiceClient(url, apiKey);
}

interface ProblemBody {
  code?: string;
  detail?: string;
  errors?: { field?: string; message: string }[];
}

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorRegistry, code);
}

/**
 * A client of the service's API with one person's key: every command that changes something goes
 * through it, so the service checks the key, its roles and the two-person rule, and records the
 * person holding the key. A problem the service answers becomes the same EntitleError (code,
 * message, fields) the command would have raised itself; a service that cannot be reached is
 * named with the address tried.
 */
export class ServiceClient {
  constructor(
    readonly url: string,
    private readonly apiKey: string | undefined,
  ) {}

  async get<T>(path: string, options: { timeoutMs?: number } = {}): Promise<T> {
    return this.request<T>('GET', path, undefined, options);
  }

  async post<T>(path: string, body: unknown, options: { timeoutMs?: number } = {}): Promise<T> {
    return this.request<T>('POST', path, body, options);
  }

  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    options: { timeoutMs?: number } = {},
  ): Promise<T> {
    const text = await this.send(method, path, body, options, 'application/json');
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** An answer that is not JSON (a Markdown review, a CSV worklist), as text. */
  async text(method: 'GET' | 'POST', path: string, body?: unknown, accept = 'text/markdown'): Promise<string> {
    return this.send(method, path, body, {}, accept);
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    options: { timeoutMs?: number },
    accept: string,
  ): Promise<string> {
    if (!this.apiKey)
      throw new EntitleError('ENTITLE_UNAUTHENTICATED', `no API key to send to the service at ${this.url}`, [
        {
          field: 'ENTITLE_API_KEY',
          message: `run "entitle login --url ${this.url}" with your key once, or set ENTITLE_API_KEY`,
        },
      ]);
    const timeoutMs = options.timeoutMs ?? 30_000;
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          accept,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new EntitleError(
        'ENTITLE_SOURCE_UNREACHABLE',
        timedOut
          ? `the service at ${this.url} did not answer within ${timeoutMs / 1000} s`
          : `the service at ${this.url} could not be reached (${cause ?? (error as Error).name})`,
        [
          {
            field: 'ENTITLE_URL',
            message: `start the service ("npm start" serves ${DEFAULT_URL}), or give its address with ENTITLE_URL or "entitle login --url URL"`,
          },
        ],
      );
    }
    const text = await response.text();
    if (response.ok) return text;
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not a problem document: answered below by status.
    }
    const problem = (parsed ?? {}) as ProblemBody;
    const problems: Problem[] = (problem.errors ?? []).map((e) =>
      e.field !== undefined ? { field: e.field, message: e.message } : { message: e.message },
    );
    if (response.status === 401)
      problems.push({
        field: 'ENTITLE_API_KEY',
        message: `the service at ${this.url} does not know this key (revoked, or for another service): run "entitle login --url ${this.url}" with a current key`,
      });
    throw new EntitleError(
      isErrorCode(problem.code) ? problem.code : 'ENTITLE_INTERNAL',
      problem.detail ?? `the service at ${this.url} answered ${response.status} to ${method} ${path}`,
      problems,
    );
  }
}
