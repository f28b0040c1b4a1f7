#!/usr/bin/env node
// Runs every `*.test.ts` beside the code with Node's own test runner, through tsx's loader.
// Node 20's runner does not expand globs itself, so the files are listed here. Arguments, if
// any, narrow the run to test files whose path contains one of them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const roots = ['src', 'bench', 'scripts'];
const skip = new Set(['node_modules', 'dist', 'data', 'scratch']);

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return skip.has(entry.name) ? [] : find(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = roots
  .flatMap((root) => find(root))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// Every service the tests start logs here; after a full run the logs are scanned for personal data.
const logDir = mkdtempSync(join(tmpdir(), 'entitle-test-logs-'));
// The tests run on the sources: the command they start runs through tsx, never an earlier build
// in dist/. And no key or address of the person running them reaches the commands they run: an
// empty configuration directory, and no ENTITLE_URL or ENTITLE_API_KEY.
const env = {
  ...process.env,
  ENTITLE_TEST_LOG_DIR: logDir,
  ENTITLE_FROM_SOURCES: '1',
  XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'entitle-test-config-')),
};
delete env.ENTITLE_URL;
delete env.ENTITLE_API_KEY;
/**
 * Test files that measure time or load the machine (latency and deadlines, load through nginx,
 * alerts firing within seconds, a browser's timers, the README's fixed port): they run one at a
 * time, after the rest, so nothing else competes with them for this machine's two cores.
 */
const ALONE = [
  'src/cli/readme.test.ts',
  'src/deploys/rolling.test.ts',
  'src/ops/alerting.test.ts',
  'src/monitoring/deploy-watch.test.ts',
  'src/web/browser.test.ts',
  'src/service/faults.test.ts',
  'src/service/resilience.test.ts',
  'src/http/capacity.test.ts',
  'src/http/hostile.test.ts',
  'src/capacity/capacity.test.ts',
  'bench/',
];
const alone = files.filter((f) => ALONE.some((a) => f.startsWith(a)));
const together = files.filter((f) => !alone.includes(f));
/** One run of Node's test runner over `group`, `concurrency` files at a time; its exit status. */
function run(group, concurrency) {
  if (group.length === 0) return 0;
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...group],
    { stdio: 'inherit', env },
  );
  return result.status ?? 1;
}
// The rest two files at a time: most of their time is spent waiting on databases and processes.
let status = run(together, 2);
status = run(alone, 1) || status;
if (filters.length === 0) {
  const scan = spawnSync(process.execPath, [join(import.meta.dirname, 'scan-logs.js'), logDir, '100'], {
    stdio: 'inherit',
  });
  if (scan.status !== 0) status = status || 1;
}
rmSync(logDir, { recursive: true, force: true });
process.exit(status);
