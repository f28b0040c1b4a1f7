// The deploy commands as the pipeline and approvers use them: through the service, each with their
// own key, while the service runs on the embedded database (no PostgreSQL needed).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { verifyAuditChain } from '../audit/index.ts';
import { openPglite } from '../store/index.ts';
import { CHRISTMAS_FREEZE, runEntitle, spawnServer, testService } from '../testing/index.ts';
import { HEIGHTENED_HOURS, heightenedWindow, recordDeploy, type DeployRecord } from './index.ts';

describe('entitle deploy', { timeout: 120_000 }, () => {
  it('records deploys approved by people with their own keys, keeps the two-person rule for production, and respects freeze windows unless two people override', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-deploy-'));
    const data = { ENTITLE_DATA_DIR: join(dir, 'data') };
    try {
      // Keys made on the database before the service starts, as a new installation does.
      const keys: Record<string, string> = {};
      for (const [name, roles, person] of [
        ['pipeline', 'operator', 'sam'],
        ['ben-laptop', 'approver', 'Ben Okoro'],
        ['asha-laptop', 'approver,operator', 'Asha Patel'],
        ['sam-phone', 'approver', 'SAM'],
      ] as const) {
        const made = await runEntitle(
          [
            'keys',
            'create',
            '--name',
            name,
            '--roles',
            roles,
            '--person',
            person,
            ...(person === 'SAM' ? ['--existing-person'] : []),
          ],
          data,
        );
        assert.equal(made.code, 0, made.stderr);
        keys[name] = made.stdout.trim();
      }
      const server = await spawnServer(data);
      let stopped = false;
      const stop = async () => {
        if (stopped) return;
        stopped = true;
        server.child.kill('SIGTERM');
        await server.exited;
      };
      try {
        const as =
          (key: string) =>
          (...args: string[]) =>
            runEntitle(args, { ENTITLE_URL: server.url, ENTITLE_API_KEY: keys[key]! });
        const pipeline = as('pipeline');
        const commit = 'abc1234def5678abc1234def5678abc1234def56';
        const build = ['--environment', 'production', '--version', '1.4.2', '--commit', commit];
        const record = ['deploy', 'record', ...build, '--strategy', 'canary', '--verification', 'smoke run 42'];

        const early = await pipeline('deploy', 'check-window', ...build);
        assert.equal(early.code, 6, 'a production build nobody approved stops before anything changes');
        assert.match(early.stderr, /ENTITLE_DEPLOY_APPROVAL_REQUIRED/);
        const unapproved = await pipeline(...record);
        assert.equal(unapproved.code, 6, unapproved.stderr);
        assert.match(
          unapproved.stderr,
          /ENTITLE_DEPLOY_APPROVAL_REQUIRED: version 1\.4\.2 \(commit abc1234def56\) needs 2 approvers other than sam for production; it has none/,
        );
        // The operator's own second key approving is still the operator.
        assert.equal((await as('sam-phone')('deploy', 'approve', ...build, '--reason', 'mine')).code, 0);
        assert.equal((await pipeline(...record)).code, 6, 'an approval by the person deploying does not count');
        const noRole = await pipeline('deploy', 'approve', ...build, '--reason', 'x');
        assert.equal(noRole.code, 6, 'the pipeline key cannot approve');

        const bad = await pipeline(
          'deploy',
          'record',
          '--environment',
          'production',
          '--version',
          '1 4',
          '--commit',
          'XYZ1234',
          '--strategy',
          'canary',
          '--verification',
          'x',
        );
        assert.equal(bad.code, 2, bad.stderr);
        assert.match(bad.stderr, /version: give a version/);
        assert.match(bad.stderr, /commit: give the whole git commit/);
        const abbreviated = await as('ben-laptop')(
          'deploy',
          'approve',
          ...build.slice(0, 5),
          'abc1234',
          '--reason',
          'x',
        );
        assert.equal(
          abbreviated.code,
          2,
          'an approval names the whole commit: another can be made to share a short one',
        );

        const approved = await as('ben-laptop')(
          'deploy',
          'approve',
          ...build,
          '--reason',
          'change ticket 881 reviewed',
        );
        assert.equal(approved.code, 0, approved.stderr);
        assert.match(approved.stdout, /Ben Okoro approved version 1\.4\.2 \(commit abc1234def56\) in production/);
        const single = await pipeline('deploy', 'check-window', ...build);
        assert.equal(single.code, 6, 'production needs two people: the one who starts the pipeline may be one of them');
        assert.match(single.stderr, /it has only Ben Okoro/);
        assert.equal((await as('asha-laptop')('deploy', 'approve', ...build, '--reason', 'agreed')).code, 0);
        const ready = await pipeline('deploy', 'check-window', ...build);
        assert.equal(ready.code, 0, ready.stderr);
        assert.match(ready.stdout, /the deploy may go ahead\napproved by Ben Okoro, Asha Patel\n/);
        const ok = await pipeline(...record);
        assert.equal(ok.code, 0, ok.stderr);
        const written = JSON.parse(ok.stdout) as DeployRecord;
        assert.deepEqual(Object.keys(written), [
          'timestamp',
          'environment',
          'version',
          'commit',
          'operator',
          'strategy',
          'approvals',
          'verification',
        ]);
        assert.deepEqual(
          { ...written, timestamp: 'T' },
          {
            timestamp: 'T',
            environment: 'production',
            version: '1.4.2',
            commit,
            operator: 'sam',
            strategy: 'canary',
            approvals: ['Ben Okoro', 'Asha Patel'],
            verification: 'smoke run 42',
          },
        );
        const rollback = await pipeline(
          'deploy',
          'record',
          ...build,
          '--strategy',
          'rollback',
          '--verification',
          'smoke run 43',
        );
        assert.equal(rollback.code, 0, rollback.stderr);
        assert.equal(
          (
            await pipeline(
              'deploy',
              'record',
              '--environment',
              'staging',
              '--version',
              '1.5.0',
              '--commit',
              'def5678abc1234def5678abc1234def5678abc12',
              '--strategy',
              'rolling',
              '--verification',
              'v',
            )
          ).code,
          0,
          'staging needs no approval',
        );

        const history = await as('ben-laptop')('deploy', 'history', '--environment', 'production', '--json');
        const records = JSON.parse(history.stdout) as (DeployRecord & { action: string })[];
        assert.deepEqual(
          records.map((r) => [r.action, r.version]),
          [
            ['deploy.rolled_back', '1.4.2'],
            ['deploy.recorded', '1.4.2'],
          ],
        );
        assert.match(
          (await pipeline('deploy', 'history')).stdout,
          /production {2}ROLLBACK 1\.4\.2 \(abc1234def56\) rollback by sam; approved by Ben Okoro, Asha Patel/,
        );

        assert.equal((await pipeline('deploy', 'check-window', '--at', '2026-12-22T12:00')).code, 0);
        const frozen0 = await as('asha-laptop')(...CHRISTMAS_FREEZE);
        assert.equal(frozen0.code, 0, frozen0.stderr);
        const frozen = await pipeline('deploy', 'check-window', '--at', '2026-12-22T12:00');
        assert.equal(frozen.code, 6);
        assert.match(
          frozen.stderr,
          /ENTITLE_FREEZE_WINDOW: deploys are frozen until 24 December 2026 at 18:00 \(UK time\): Christmas payment run/,
        );
        const override = [
          'deploy',
          'check-window',
          '--at',
          '2026-12-22T12:00',
          '--emergency',
          ...build,
          '--reason',
          'a fix citizens need now',
        ];
        await as('ben-laptop')('deploy', 'approve', '--emergency', ...build, '--reason', 'INC-42 fix');
        const one = await pipeline(...override);
        assert.equal(one.code, 6, 'one approver is not enough');
        assert.match(one.stderr, /only Ben Okoro has approved/);
        await as('sam-phone')('deploy', 'approve', '--emergency', ...build, '--reason', 'me again');
        assert.equal((await pipeline(...override)).code, 6, 'nor the person asking, under another key');
        await as('asha-laptop')('deploy', 'approve', '--emergency', ...build, '--reason', 'agreed on the bridge');
        const overridden = await pipeline(...override);
        assert.equal(overridden.code, 0, overridden.stderr);
        assert.match(overridden.stdout, /emergency override by Ben Okoro and Asha Patel recorded/);
      } finally {
        await stop();
      }

      const db = await openPglite(join(dir, 'data'));
      try {
        const { rows } = await db.query<{ action: string; actor: string }>(
          "SELECT action, actor FROM audit_events WHERE action LIKE 'deploy.%' AND action <> 'deploy.approved' ORDER BY seq",
        );
        assert.deepEqual(
          rows.map((r) => `${r.action} by ${r.actor}`),
          [
            'deploy.recorded by sam',
            'deploy.rolled_back by sam',
            'deploy.recorded by sam',
            'deploy.freeze_overridden by sam',
          ],
        );
        assert.equal((await verifyAuditChain(db)).ok, true);
      } finally {
        await db.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the heightened window after a deploy', () => {
  it('opens for 24 hours with each deploy or rollback, per environment, and the watch is recorded', async () => {
    const service = await testService();
    try {
      const db = service.db;
      assert.deepEqual(await heightenedWindow(db, 'staging'), {
        environment: 'staging',
        active: false,
        version: null,
        commit: null,
        since: null,
        until: null,
      });
      const commit = 'a'.repeat(40);
      const { record } = await recordDeploy(
        db,
        { environment: 'staging', version: '2.0.0', commit, strategy: 'canary', verification: 'run 1' },
        'pipeline',
      );
      const open = await heightenedWindow(db, 'staging');
      assert.equal(open.active, true);
      assert.equal(open.version, '2.0.0');
      assert.equal(Date.parse(open.until!) - Date.parse(record.timestamp), HEIGHTENED_HOURS * 3_600_000);
      assert.equal((await heightenedWindow(db, 'development')).active, false, 'another environment is not heightened');
      const later = new Date(Date.parse(record.timestamp) + (HEIGHTENED_HOURS * 3_600_000 + 1));
      assert.equal((await heightenedWindow(db, 'staging', later)).active, false, 'it ends after 24 hours');

      // Over HTTP: the window, and a watch's verdict recorded (a wrong one refused, naming the field).
      const headers = { authorization: `Bearer ${service.keys.operator}` };
      const read = await service.app.inject({ url: '/v1/deploys/heightened?environment=staging', headers });
      assert.equal(read.statusCode, 200);
      assert.equal(read.json<{ active: boolean }>().active, true);
      const watch = {
        environment: 'staging',
        version: '2.0.0',
        commit,
        startedAt: '2026-12-07T10:00:00.000Z',
        endedAt: '2026-12-07T11:00:00.000Z',
        verdict: 'held',
        breaches: [],
      };
      const held = await service.app.inject({ method: 'POST', url: '/v1/deploys/watches', headers, payload: watch });
      assert.equal(held.statusCode, 201, held.body);
      const wrong = await service.app.inject({
        method: 'POST',
        url: '/v1/deploys/watches',
        headers,
        payload: { ...watch, verdict: 'fine' },
      });
      assert.equal(wrong.statusCode, 400);
      assert.match(wrong.body, /verdict/);
      const assessor = await service.app.inject({
        method: 'POST',
        url: '/v1/deploys/watches',
        headers: { authorization: `Bearer ${service.keys.assessor}` },
        payload: watch,
      });
      assert.equal(assessor.statusCode, 403);
      const { rows } = await db.query<{ reason: string; evidence: { heightenedUntil?: string } }>(
        "SELECT reason, evidence FROM audit_events WHERE action IN ('deploy.recorded', 'deploy.watched') ORDER BY seq",
      );
      assert.equal(rows[0]!.evidence.heightenedUntil, open.until, 'the deploy record says when the window ends');
      assert.match(rows[1]!.reason, /^version 2\.0\.0 \(commit aaaaaaaaaaaa\) watched for 60 minutes: held$/);
    } finally {
      await service.close();
    }
  });
});
