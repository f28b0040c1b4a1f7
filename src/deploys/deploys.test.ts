import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { verifyAuditChain } from '../audit/index.ts';
import { addFreezeWindow } from '../freeze-windows/index.ts';
import { migrate, openPglite, shippedMigrations } from '../store/index.ts';
import { runEntitle } from '../testing/index.ts';
import type { DeployRecord } from './index.ts';

describe('entitle deploy', () => {
  it('records deploys and rollbacks as JSON in the audit chain, lists them, keeps the two-person rule for production, and respects freeze windows unless two people override', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-deploy-'));
    const env = { ENTITLE_DATA_DIR: join(dir, 'data'), ENTITLE_ACTOR: 'sam' };
    const entitle = (...args: string[]) => runEntitle(args, env);
    try {
      const record = [
        'deploy',
        'record',
        '--environment',
        'production',
        '--version',
        '1.4.2',
        '--commit',
        'abc1234def5678',
        '--strategy',
        'canary',
        '--verification',
        'smoke run 42',
      ];
      const alone = await entitle(...record, '--approvals', 'sam');
      assert.equal(alone.code, 2, 'the operator cannot approve their own production deploy');
      assert.match(alone.stderr, /--approvals: name who approved it/);
      const bad = await entitle(
        'deploy',
        'record',
        '--environment',
        'production',
        '--version',
        '1 4',
        '--commit',
        'XYZ',
        '--strategy',
        'canary',
        '--verification',
        'x',
      );
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--version: give a version/);
      assert.match(bad.stderr, /--commit: give the git commit/);

      const ok = await entitle(...record, '--approvals', 'ben,asha');
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
          commit: 'abc1234def5678',
          operator: 'sam',
          strategy: 'canary',
          approvals: ['ben', 'asha'],
          verification: 'smoke run 42',
        },
      );
      assert.equal(
        (
          await entitle(
            'deploy',
            'record',
            '--environment',
            'production',
            '--version',
            '1.4.1',
            '--commit',
            'abc1234',
            '--strategy',
            'rollback',
            '--approvals',
            'ben',
            '--verification',
            'smoke run 43',
          )
        ).code,
        0,
      );

      const history = await entitle('deploy', 'history', '--json');
      const records = JSON.parse(history.stdout) as (DeployRecord & { action: string })[];
      assert.deepEqual(
        records.map((r) => [r.action, r.version]),
        [
          ['deploy.rolled_back', '1.4.1'],
          ['deploy.recorded', '1.4.2'],
        ],
      );
      assert.match(
        (await entitle('deploy', 'history')).stdout,
        /production {2}ROLLBACK 1\.4\.1 \(abc1234\) rollback by sam/,
      );

      assert.equal((await entitle('deploy', 'check-window', '--at', '2026-12-22T12:00')).code, 0);
      // A freeze window, as `entitle release freeze add` adds it through the service.
      const windows = await openPglite(join(dir, 'data'));
      try {
        await addFreezeWindow(
          windows,
          { startsAt: '2026-12-22T00:00:00.000Z', endsAt: '2026-12-24T18:00:00.000Z', reason: 'Christmas payment run' },
          'sam',
        );
      } finally {
        await windows.close();
      }
      const frozen = await entitle('deploy', 'check-window', '--at', '2026-12-22T12:00');
      assert.equal(frozen.code, 6);
      assert.match(
        frozen.stderr,
        /ENTITLE_FREEZE_WINDOW: deploys are frozen until 24 December 2026 at 18:00 \(UK time\): Christmas payment run/,
      );
      assert.equal(
        (
          await entitle(
            'deploy',
            'check-window',
            '--at',
            '2026-12-22T12:00',
            '--emergency',
            '--approvals',
            'ben',
            '--reason',
            'fix',
          )
        ).code,
        6,
        'one approver is not enough',
      );
      const override = await entitle(
        'deploy',
        'check-window',
        '--at',
        '2026-12-22T12:00',
        '--emergency',
        '--approvals',
        'ben,asha',
        '--reason',
        'a fix citizens need now',
      );
      assert.equal(override.code, 0, override.stderr);
      assert.match(override.stdout, /emergency override by ben and asha recorded/);

      const db = await openPglite(join(dir, 'data'));
      try {
        const { rows } = await db.query<{ action: string }>(
          "SELECT action FROM audit_events WHERE action LIKE 'deploy.%' ORDER BY seq",
        );
        assert.deepEqual(
          rows.map((r) => r.action),
          ['deploy.recorded', 'deploy.rolled_back', 'deploy.freeze_overridden'],
        );
        assert.equal((await verifyAuditChain(db)).ok, true);
      } finally {
        await db.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('checks the freeze window on a database a release behind, as the pipeline does before migrating', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'entitle-deploy-behind-'));
    try {
      const db = await openPglite(join(dir, 'data'));
      const shipped = await shippedMigrations();
      await migrate(db, shipped.slice(0, -1));
      await db.close();
      const check = await runEntitle(['deploy', 'check-window'], { ENTITLE_DATA_DIR: join(dir, 'data') });
      assert.equal(check.code, 0, check.stderr);
      assert.match(check.stdout, /the deploy may go ahead/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
