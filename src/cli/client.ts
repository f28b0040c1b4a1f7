import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { EntitleError, errorRegistry, type ErrorCode, type Problem } from '../errors/index.ts';
import { progressBar, type Progress } from './progress.ts';

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
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${path} could not be read`, [
      { file: path, message: `check its owner and permissions (${(error as NodeJS.ErrnoException).code ?? 'error'})` },
    ]);
  }
  // As ssh does with a private key: a key others can read is not used.
  if (((await stat(path)).mode & 0o077) !== 0)
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${path} holds your API key and others can read it`, [
      { file: path, message: `run chmod 600 ${path}, or log in again` },
    ]);
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

/**
 * Writes the configuration readable and writable by its owner only (0600, in a 0700 folder): into
 * a new file made 0600 from the start, synced, then renamed over the old one, so the key is never
 * in a file others can read, a crash never leaves half a file, and a link at the path is replaced,
 * not followed.
 */
export async function writeConfig(config: Config, path = configPath()): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await chmod(dirname(path), 0o700);
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const file = await open(temporary, 'wx', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(config, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
}

export async function removeConfig(path = configPath()): Promise<boolean> {
  try {
    await rm(path);
    return true;
  } catch {
    return false;
  }
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * The service's address, checked: https, or http only to this machine (where `npm start` serves),
 * so a key never crosses a network in the clear; no credentials in it.
 */
export function checkUrl(text: string, field: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    url = new URL('invalid:');
  }
  const local = url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  if (!(url.protocol === 'https:' || local) || url.username || url.password)
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${field} is not the address of a service the key may go to`, [
      {
        field,
        message: `give an https address, or http to this machine only (such as ${DEFAULT_URL}), without a user name or password`,
      },
    ]);
  return url.toString().replace(/\/$/, '');
}

/**
 * The service and the key to use: ENTITLE_URL and ENTITLE_API_KEY when set, else what `entitle
 * login` saved, else the local address `npm start` serves on (and no key). A saved key goes only
 * to the address it was saved for: ENTITLE_URL pointing elsewhere needs its own ENTITLE_API_KEY.
 */
export async function connection(env: NodeJS.ProcessEnv = process.env): Promise<ServiceClient> {
  const fromEnv = env.ENTITLE_API_KEY?.trim();
  const saved = env.ENTITLE_URL && fromEnv ? {} : await readConfig(configPath(env));
  const url = env.ENTITLE_URL
    ? checkUrl(env.ENTITLE_URL, 'ENTITLE_URL')
    : saved.url
      ? checkUrl(saved.url, configPath(env))
      : DEFAULT_URL;
  const apiKey = fromEnv || (saved.url === url ? saved.apiKey : undefined);
  return new ServiceClient(url, apiKey);
}

export interface ProblemBody {
  code?: string;
  detail?: string;
  errors?: { field?: string; message: string }[];
}

/** An error code for an answer that carried none, by its HTTP status. */
function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'ENTITLE_UNAUTHENTICATED';
  if (status === 403) return 'ENTITLE_FORBIDDEN';
  if (status === 404) return 'ENTITLE_NOT_FOUND';
  if (status === 408 || status === 429 || status >= 500) return 'ENTITLE_SOURCE_UNREACHABLE';
  return 'ENTITLE_REQUEST_INVALID';
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

  /** Whether there is a key to send (ENTITLE_API_KEY, or the one saved for this address). */
  get hasKey(): boolean {
    return Boolean(this.apiKey);
  }

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
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch {
      throw this.notJson();
    }
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
    const timeoutMs = options.timeoutMs ?? 30_000;
    const response = await this.fetch(method, path, body, accept, AbortSignal.timeout(timeoutMs), timeoutMs);
    const text = await this.read(response, timeoutMs);
    if (response.ok) return text;
    throw this.refusal(response, text, method, path);
  }

  /** An answer's body, or what went wrong reading it, said as the service being unreachable is. */
  private async read(response: Response, timeoutMs: number): Promise<string> {
    try {
      return await response.text();
    } catch (error) {
      throw new EntitleError(
        'ENTITLE_SOURCE_UNREACHABLE',
        (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError'
          ? `the service at ${this.url} did not finish its answer within ${timeoutMs / 1000} s`
          : `the connection to the service at ${this.url} broke before its answer ended`,
        [{ message: 'a change may still have been made: check before running the command again' }],
      );
    }
  }

  /**
   * A request answered with a stream of JSON lines (application/x-ndjson), each handed to
   * `onLine` as it arrives, as `kubectl logs -f` reads its stream. The connection may run as long
   * as the work does, but never `idleMs` without a line.
   */
  async stream(
    path: string,
    body: unknown,
    onLine: (value: unknown) => void,
    options: { method?: 'GET' | 'POST'; idleMs?: number } = {},
  ): Promise<void> {
    const { method = 'POST', idleMs = 60_000 } = options;
    const controller = new AbortController();
    let idle = setTimeout(() => controller.abort(), idleMs);
    const wake = () => {
      clearTimeout(idle);
      idle = setTimeout(() => controller.abort(), idleMs);
    };
    try {
      const response = await this.fetch(method, path, body, 'application/x-ndjson', controller.signal, idleMs);
      if (!response.ok) throw this.refusal(response, await this.read(response, idleMs), method, path);
      if (!(response.headers.get('content-type') ?? '').startsWith('application/x-ndjson')) {
        const text = await this.read(response, idleMs);
        try {
          onLine({ result: JSON.parse(text) as unknown });
        } catch (error) {
          if (error instanceof EntitleError) throw error;
          throw this.notJson();
        }
        return;
      }
      const decoder = new TextDecoder();
      let pending = '';
      try {
        for await (const chunk of response.body ?? []) {
          wake();
          pending += decoder.decode(chunk as Uint8Array, { stream: true });
          let end: number;
          while ((end = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, end).trim();
            pending = pending.slice(end + 1);
            if (!line) continue;
            let value: unknown;
            try {
              value = JSON.parse(line);
            } catch {
              throw this.notJson();
            }
            onLine(value);
          }
        }
      } catch (error) {
        if (error instanceof EntitleError) throw error;
        throw new EntitleError(
          'ENTITLE_SOURCE_UNREACHABLE',
          controller.signal.aborted
            ? `the service at ${this.url} sent nothing for ${idleMs / 1000} s`
            : `the connection to the service at ${this.url} broke before the answer ended`,
          [{ message: 'the work may still finish on the service: check its result before running it again' }],
        );
      }
    } finally {
      clearTimeout(idle);
    }
  }

  /**
   * Long work the service does as it goes (a backtest, a simulation): its progress drawn on
   * stderr as `label` (a bar at a terminal, a line every 5 s elsewhere), and its result, or its
   * problem as the EntitleError the command would have raised itself.
   */
  async work<T>(path: string, body: unknown, label: string, method: 'GET' | 'POST' = 'POST'): Promise<T> {
    let bar: Progress | undefined;
    let outcome: { result: T } | undefined;
    const streamed = this.stream(
      path,
      body,
      (value) => {
        const line = value as
          | { progress: { done: number; total: number } }
          | { result: T }
          | { problem: ProblemBody & { status?: number } };
        if ('progress' in line) {
          if (line.progress.total <= 0) return;
          bar ??= progressBar(label, line.progress.total);
          bar.update(line.progress.done);
        } else if ('problem' in line) {
          throw problemError(line.problem, line.problem.status ?? 500, this.url, `POST ${path}`);
        } else outcome = line;
      },
      { method },
    );
    // A result that arrived stands, even if the connection then broke before it closed.
    await streamed.catch((error: unknown) => {
      if (!outcome) throw error;
    });
    bar?.finish();
    if (!outcome)
      throw new EntitleError(
        'ENTITLE_SOURCE_UNREACHABLE',
        `the service at ${this.url} ended the work without a result`,
        [{ message: 'the work may have been done in part: check before running it again' }],
      );
    return outcome.result;
  }

  private async fetch(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    accept: string,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<Response> {
    if (!this.apiKey)
      throw new EntitleError('ENTITLE_UNAUTHENTICATED', `no API key to send to the service at ${this.url}`, [
        {
          field: 'ENTITLE_API_KEY',
          message: `run "entitle login --url ${this.url}" with your key once, or set ENTITLE_API_KEY`,
        },
      ]);
    try {
      return await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.apiKey}`,
          accept,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        // A key is never sent on to wherever a redirect points.
        redirect: 'error',
        signal,
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
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
  }

  private notJson(): EntitleError {
    return new EntitleError('ENTITLE_SOURCE_UNREACHABLE', `the service at ${this.url} did not answer with JSON`, [
      {
        field: 'ENTITLE_URL',
        message: 'check that ENTITLE_URL (or the address you logged in to) is the service itself',
      },
    ]);
  }

  /** The service's refusal as the EntitleError the command would have raised itself. */
  private refusal(response: Response, text: string, method: string, path: string): EntitleError {
    let problem: ProblemBody = {};
    try {
      problem = (text ? JSON.parse(text) : {}) as ProblemBody;
    } catch {
      // Not a problem document: answered below by status.
    }
    return problemError(problem ?? {}, response.status, this.url, `${method} ${path}`);
  }
}

/**
 * A problem document from the service as an EntitleError: its own code, else (a proxy's page,
 * say) one that says the same by its status; a 401 says how to sign in again.
 */
export function problemError(problem: ProblemBody, status: number, url: string, request: string): EntitleError {
  const problems: Problem[] = (problem.errors ?? []).map((e) =>
    e.field !== undefined ? { field: e.field, message: e.message } : { message: e.message },
  );
  if (status === 401)
    problems.push({
      field: 'ENTITLE_API_KEY',
      message: `the service at ${url} does not know this key (revoked, or for another service): run "entitle login --url ${url}" with a current key`,
    });
  const code: ErrorCode = isErrorCode(problem.code) ? problem.code : codeForStatus(status);
  // Control characters from the answer never reach the terminal.
  const detail = (problem.detail ?? `the service at ${url} answered ${status} to ${request}`).replace(/\p{Cc}/gu, ' ');
  return new EntitleError(code, detail, problems);
}
