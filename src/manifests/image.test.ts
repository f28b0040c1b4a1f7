import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmod, cp, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { projectRoot, testDatabases } from '../testing/index.ts';

const run = promisify(execFile);

/**
 * No container engine runs here, so the image is checked in two ways: the Dockerfile's shape, and
 * its contents assembled exactly as its COPY and RUN steps say, then run the way the container
 * runs them (its environment, an unprivileged user, nothing writable but /tmp).
 */
/** An instruction's arguments, with a COPY's --from stage before them as it is written. */
function copyArguments(instruction: Instruction): string {
  const from = instruction instanceof Copy ? instruction.getFromFlag()?.getValue() : undefined;
  return `${from ? `--from=${from} ` : ''}${instruction.getArgumentsContent() ?? ''}`;
}

async function dockerfile() {
  return DockerfileParser.parse(await readFile(join(projectRoot, 'Dockerfile'), 'utf8'));
}

describe('container image', () => {
  it('is multi-stage, installs from the lock file alone, runs unprivileged with a health check and the build stamped in', async () => {
    const file = await dockerfile();
    const stages = file.getFROMs();
    assert.deepEqual(
      stages.map((s) => s.getBuildStage()),
      ['dependencies', 'build', 'runtime'],
    );
    const base =
      file
        .getARGs()
        .find((a) => a.getProperty()?.getName() === 'NODE_IMAGE')
        ?.getProperty()
        ?.getValue() ?? '';
    assert.match(
      base,
      /^node:20\.\d+\.\d+-bookworm-slim$/,
      'the base image is pinned to an exact Node.js release, never "latest"',
    );

    const instructions = file.getInstructions().map((i) => ({ keyword: i.getKeyword(), args: copyArguments(i) }));
    const runs = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    assert.ok(
      runs.some((r) => r.startsWith('npm ci --omit=dev')),
      'dependencies come from npm ci with the lock file',
    );
    assert.ok(runs.includes('node scripts/build.js'), 'the sources are compiled in the build stage');
    const runtimeLine = stages[2]!.getRange().start.line;
    const runtimeCopies = instructions.filter(
      (i, n) => i.keyword === 'COPY' && file.getInstructions()[n]!.getRange().start.line > runtimeLine,
    );
    assert.ok(
      runtimeCopies.some((c) => c.args === '--from=build /app/dist ./dist'),
      'the runtime runs the build',
    );
    assert.ok(
      !runtimeCopies.some((c) => /^src\b/.test(c.args)),
      'the runtime ships no TypeScript sources, so the command runs the build',
    );
    assert.ok(
      !runs.some((r) => /npm install\b|curl|wget/.test(r)),
      'nothing is installed or downloaded beyond the lock file',
    );
    const lockCopied = instructions.findIndex((i) => i.keyword === 'COPY' && i.args.includes('package-lock.json'));
    const installed = instructions.findIndex((i) => i.keyword === 'RUN' && i.args.startsWith('npm ci'));
    assert.ok(lockCopied >= 0 && lockCopied < installed, 'the lock file is copied before npm ci');

    const last = (keyword: string) => instructions.filter((i) => i.keyword === keyword).at(-1)?.args;
    assert.equal(last('USER'), '10001:10001', 'runs as a numeric non-root user (Kubernetes runAsNonRoot can check it)');
    assert.match(last('HEALTHCHECK') ?? '', /bin\/healthcheck\.js/);
    assert.equal(last('ENTRYPOINT'), '["node", "bin/entitle.js"]');
    assert.match(last('ENV') ?? '', /ENTITLE_BUILD_COMMIT=\$\{ENTITLE_BUILD_COMMIT\}/);

    const ignored = await readFile(join(projectRoot, '.dockerignore'), 'utf8');
    for (const entry of ['.git', 'node_modules', 'data', '.env', '**/*.test.ts'])
      assert.ok(ignored.split('\n').includes(entry), `.dockerignore keeps ${entry} out of the image`);
  });

  // Running as another user needs root, as in CI; elsewhere the test says why it did not run.
  const root = process.getuid?.() === 0;
  if (!root && process.env.CI)
    throw new Error('the image test runs the service as user 10001, which needs root: run CI as root');
  it(
    'assembled as the Dockerfile says, installs from the lock file and serves as an unprivileged user who cannot write to it',
    { skip: root ? false : 'needs root to run the service as user 10001' },
    async () => {
      const file = await dockerfile();
      const [, buildStage, runtimeStage] = file.getFROMs().map((f) => f.getRange().start.line);
      const steps = file.getInstructions().filter((i) => i.getRange().start.line > runtimeStage!);
      const buildSteps = file
        .getInstructions()
        .filter((i) => i.getRange().start.line > buildStage! && i.getRange().start.line < runtimeStage!);
      const dir = await mkdtemp(join(tmpdir(), 'entitle-image-'));
      const app = join(dir, 'app');
      const build = join(dir, 'build');
      const database = await testDatabases.postgres();
      // The build context, without what .dockerignore keeps out (tests and the harnesses).
      const fromContext = (path: string) =>
        !path.endsWith('.test.ts') && !path.startsWith(join(projectRoot, 'src/testing'));
      const copyInto = async (root: string, copy: Instruction, stages: Record<string, string>) => {
        const parts = copyArguments(copy).split(/\s+/);
        const from = parts[0]!.startsWith('--from=') ? stages[parts.shift()!.slice('--from='.length)]! : undefined;
        const target = parts.pop()!;
        for (const source of parts) {
          await cp(
            from ? join(from, source.replace(/^\/app\//, '')) : join(projectRoot, source),
            join(root, target.endsWith('/') || parts.length > 1 ? join(target, source.split('/').pop()!) : target),
            { recursive: true, filter: from ? () => true : fromContext },
          );
        }
      };
      try {
        // The dependencies stage: the lock file, npm ci of production dependencies (from the cache where it can).
        await cp(join(projectRoot, 'package.json'), join(app, 'package.json'));
        await cp(join(projectRoot, 'package-lock.json'), join(app, 'package-lock.json'));
        await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
          cwd: app,
          maxBuffer: 8 * 1024 * 1024,
        });
        // The build stage: its COPY steps, every dependency (the project's, as npm ci installs
        // them), then its build.
        for (const copy of buildSteps.filter((i) => i.getKeyword() === 'COPY')) await copyInto(build, copy, {});
        await symlink(join(projectRoot, 'node_modules'), join(build, 'node_modules'));
        await run('node', ['scripts/build.js'], { cwd: build, maxBuffer: 8 * 1024 * 1024 });
        // The runtime stage's COPY steps (its node_modules came from the dependencies stage above).
        for (const copy of steps.filter(
          (i) => i.getKeyword() === 'COPY' && !(i.getArgumentsContent() ?? '').includes('node_modules'),
        ))
          await copyInto(app, copy, { build });
        await run('chmod', ['-R', 'go=rX,u=rwX', dir]);
        await chmod(dir, 0o755);

        // The image's environment, parsed from its ENV step, and its user.
        const env: Record<string, string> = {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: database.url!,
          PORT: '0',
          TMPDIR: join(dir, 'no-such-tmp'),
        };
        for (const i of steps.filter((x) => x.getKeyword() === 'ENV')) {
          for (const [, key, value] of (i.getArgumentsContent() ?? '').matchAll(/(\w+)=(\S+)/g))
            env[key!] = value!.replace(/\$\{(\w+)\}/, (_m, name: string) =>
              name === 'ENTITLE_BUILD_VERSION' ? '9.9.9' : name === 'ENTITLE_BUILD_COMMIT' ? 'abc1234' : '',
            );
        }
        env.PORT = '0';
        env.ENTITLE_DEBUG = '1';
        const child = spawn('node', ['bin/entitle.js', 'serve'], {
          cwd: app,
          env,
          uid: 10001,
          gid: 10001,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr.on('data', (d: Buffer) => (output += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
        try {
          // Port 0: the system picks a free one, which the service logs when it starts.
          const deadline = Date.now() + 30_000;
          let port: string | undefined;
          let ready = false;
          while (!ready && Date.now() < deadline && child.exitCode === null) {
            port ??= /"address":"http:\/\/[^"]*:(\d+)"/.exec(output)?.[1];
            ready =
              port !== undefined &&
              (await fetch(`http://127.0.0.1:${port}/ready`).then(
                (r) => r.ok,
                () => false,
              ));
            if (!ready) await new Promise((r) => setTimeout(r, 250));
          }
          const url = `http://127.0.0.1:${port}`;
          assert.ok(ready, `the image's service became ready:\n${output}`);
          assert.match(output, /entitle: running the build in dist\//, 'the image runs compiled JavaScript');
          const version = (await (await fetch(`${url}/version`)).json()) as {
            build: { version: string; commit: string };
          };
          assert.deepEqual(version.build, { version: '9.9.9', commit: 'abc1234' });
          const health = await run('node', ['bin/healthcheck.js'], {
            cwd: app,
            env: { ...env, PORT: port! },
            uid: 10001,
            gid: 10001,
          }).then(
            () => 0,
            (e: { code: number }) => e.code,
          );
          assert.equal(health, 0, 'the HEALTHCHECK command passes');
          await assert.rejects(
            run('touch', [join(app, 'written')], { uid: 10001, gid: 10001 }),
            'the service user cannot write to the application',
          );
        } finally {
          child.kill('SIGTERM');
        }
        assert.equal(await exited, 0, `stopped cleanly on SIGTERM:\n${output}`);
      } finally {
        await database.drop();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
