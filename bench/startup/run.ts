// npm run bench:startup — how long `entitle` takes to start and finish, as a person types it:
// `entitle --version` and `entitle assess` on the bundled example, from the build that
// `npm install` makes (dist/) and from the TypeScript sources through tsx (ENTITLE_FROM_SOURCES=1).
// hyperfine (Debian's package) times each: 2 warm-up runs, then BENCH_RUNS runs (10 by default),
// medians. The anchor is Node.js starting and doing nothing, measured in the same run. Fails when
// the build's --version takes 0.5 s or more, or its assess 1 s or more.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const root = fileURLToPath(new URL('../..', import.meta.url));
const node = process.execPath;

if (spawnSync('hyperfine', ['--version']).status !== 0) {
  console.error('hyperfine is not installed: apt-get install -y hyperfine');
  process.exit(1);
}
if (!existsSync(join(root, 'dist', 'BUILT'))) {
  console.error('there is no build in dist/: run npm run build (npm install does it)');
  process.exit(1);
}

interface Case {
  readonly name: string;
  readonly command: string;
  readonly env?: string;
  readonly limitS?: number;
}
const entitle = `${node} bin/entitle.js`;
const example = 'examples/universal-credit.json';
const cases: Case[] = [
  { name: 'node, doing nothing (anchor)', command: `${node} -e 0` },
  { name: 'entitle --version (build)', command: `${entitle} --version`, limitS: 0.5 },
  { name: 'entitle assess (build)', command: `${entitle} assess --input ${example}`, limitS: 1 },
  { name: 'entitle --version (sources, tsx)', command: `${entitle} --version`, env: 'ENTITLE_FROM_SOURCES=1' },
  {
    name: 'entitle assess (sources, tsx)',
    command: `${entitle} assess --input ${example}`,
    env: 'ENTITLE_FROM_SOURCES=1',
  },
];

const out = mkdtempSync(join(tmpdir(), 'entitle-startup-'));
const medians = cases.map((c, i) => {
  const file = join(out, `${i}.json`);
  const command = c.env ? `env ${c.env} ${c.command}` : c.command;
  execFileSync(
    'hyperfine',
    ['--warmup', '2', '--runs', String(RUNS), '--shell', 'none', '--export-json', file, '--style', 'none', command],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ENTITLE_FROM_SOURCES: '' } },
  );
  const result = JSON.parse(readFileSync(file, 'utf8')) as { results: { median: number }[] };
  return result.results[0]!.median;
});

const anchor = medians[0]!;
console.log(`# Start-up: hyperfine, ${RUNS} runs after 2 warm-up runs (medians)\n`);
console.log('| command | median | against the anchor | limit |\n|---|---:|---:|---:|');
let failed = false;
cases.forEach((c, i) => {
  const seconds = medians[i]!;
  const over = c.limitS !== undefined && seconds >= c.limitS;
  failed ||= over;
  console.log(
    `| ${c.name} | ${(seconds * 1000).toFixed(0)} ms | ${(seconds / anchor).toFixed(1)}× | ${
      c.limitS === undefined ? '' : `${c.limitS * 1000} ms${over ? ' EXCEEDED' : ''}`
    } |`,
  );
});
if (failed) process.exitCode = 1;
