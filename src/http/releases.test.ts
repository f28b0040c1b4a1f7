import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createKey } from '../keys/index.ts';
import { DEFAULT_GATES, ruleSetFiles, seedActiveVersions } from '../releases/index.ts';
import type { RuleSetBundle } from '../rules/index.ts';
import {
  beforeUprating,
  compile,
  GOLDEN_SINGLE,
  household,
  taper,
  testService,
  ucBundle,
  writeRuleSetDir,
  type TestService,
} from '../testing/index.ts';

/** A rule-set directory's files as the API takes them: name to text. */
async function filesOf(bundle: RuleSetBundle): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'entitle-api-release-'));
  try {
    return await ruleSetFiles(await writeRuleSetDir(dir, bundle, { 'single.yaml': GOLDEN_SINGLE }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The parts of the API's answers (releases, problems, status, worklists) the test reads. */
interface Reply {
  release: { id: string; state: string; author: string; canaryBasisPoints: number };
  golden: unknown;
  code: string;
  errors: { field: string; message: string }[];
  steps: { action: string; actor: string }[];
  decisions: number;
  kind: string;
  underpaid: number;
  entries: { applicationId: string; changePence: number; action: string }[];
  report: {
    compared: number;
    kinds: { unexpected: number; expected: number; identical: number };
    examples: { expected: { applicationId: string }[] };
  };
  workers: number;
}

async function call(
  service: TestService,
  key: string,
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
  accept?: string,
) {
  const response = await service.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${key}`, ...(accept ? { accept } : {}) },
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  const type = String(response.headers['content-type']);
  return {
    status: response.statusCode,
    body: (type.includes('json') ? response.json() : {}) as Reply,
    text: response.body,
    type,
  };
}

describe('releases over HTTP', () => {
  it('takes a release from creation to rollback and its worklist, each step by a key with the right role, recorded with its name', async () => {
    const active = compile(beforeUprating(await ucBundle()));
    const service = await testService({
      rules: new Map([['universal-credit', active]]),
      gates: { ...DEFAULT_GATES, minSample: 10 },
    });
    try {
      await seedActiveVersions(service.db, [active.program]);
      const { keys } = service;
      const files = await filesOf(taper(beforeUprating(await ucBundle()), '57%'));
      const create = {
        benefit: 'universal-credit',
        summary: 'taper to 57%',
        effective: '2025-04-07',
        expectations: 'changes:\n  - variable: earnedIncomeDeduction\n    direction: rise\n    why: taper\n',
        files,
      };

      assert.equal((await call(service, keys.assessor, 'POST', '/v1/releases', create)).status, 403);
      const badName = await call(service, keys['policy-author'], 'POST', '/v1/releases', {
        ...create,
        files: { ...files, '../escape.yaml': 'x' },
      });
      assert.equal(badName.status, 400);
      assert.deepEqual(badName.body.errors, [
        {
          field: 'files.../escape.yaml',
          message: 'send only ruleset.yaml, parameters.yaml, household.yaml and tests/NAME.yaml',
        },
      ]);
      const badDate = await call(service, keys['policy-author'], 'POST', '/v1/releases', {
        ...create,
        effective: 'soon',
      });
      assert.equal(badDate.status, 400);
      assert.equal(badDate.body.errors[0]!.field, 'effective');

      const broken = await call(service, keys['policy-author'], 'POST', '/v1/releases', {
        ...create,
        files: { ...files, 'parameters.yaml': 'standardAllowance: [' },
      });
      assert.equal(broken.status, 400);
      assert.equal(broken.body.code, 'ENTITLE_CANDIDATE_INVALID');
      assert.match(broken.body.errors[0]!.field, /^files\.parameters\.yaml:\d+:\d+$/);
      assert.doesNotMatch(JSON.stringify(broken.body), /entitle-candidate-|tmp/);

      // The household model is read only from what was sent, never from beside the server's
      // temporary directory.
      const withoutHousehold = Object.fromEntries(Object.entries(files).filter(([name]) => name !== 'household.yaml'));
      const noHousehold = await call(service, keys['policy-author'], 'POST', '/v1/releases', {
        ...create,
        files: withoutHousehold,
      });
      assert.equal(noHousehold.status, 400);
      assert.match(noHousehold.body.errors[0]!.field, /^files\.ruleset\.yaml:\d+:\d+$/);
      assert.match(noHousehold.body.errors[0]!.message, /needs household\.yaml: send it with the rule set/);
      assert.doesNotMatch(JSON.stringify(noHousehold.body), /tmp/);

      const created = await call(service, keys['policy-author'], 'POST', '/v1/releases', create);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.release.id;
      assert.equal(created.body.release.state, 'validated');
      assert.equal(created.body.release.author, 'test-policy-author');
      assert.deepEqual(created.body.golden, { total: 1, failed: [] });

      for (let n = 1; n <= 6; n++)
        assert.equal((await call(service, keys.assessor, 'POST', '/v1/assessments', household(n))).status, 201);
      const backtest = await call(service, keys['policy-author'], 'POST', `/v1/releases/${id}/backtest`, { last: 10 });
      assert.equal(backtest.status, 200, JSON.stringify(backtest.body));
      assert.equal(backtest.body.report.compared, 6);
      assert.equal(backtest.body.report.kinds.unexpected, 0);
      assert.equal(backtest.body.workers, 1);
      assert.equal(
        (
          await call(service, keys['policy-author'], 'POST', `/v1/releases/${id}/backtest`, {
            last: 10,
            from: '2025-01-01',
          })
        ).body.errors[0]!.field,
        'last',
      );
      assert.equal(
        (await call(service, keys['policy-author'], 'POST', `/v1/releases/${id}/backtest`, { from: '1800-01-01' }))
          .status,
        200,
        'a date before 1970 is clamped, not a fault',
      );

      assert.equal((await call(service, keys.operator, 'POST', `/v1/releases/${id}/shadow`, {})).status, 403);
      const noBody = await service.app.inject({
        method: 'POST',
        url: `/v1/releases/${id}/backtest`,
        headers: { authorization: `Bearer ${keys['policy-author']}` },
      });
      assert.equal(noBody.statusCode, 200, 'a step with no body takes its defaults');
      assert.equal(
        (await call(service, keys['policy-author'], 'POST', `/v1/releases/${id}/shadow`, { percent: 100 })).body.release
          .state,
        'shadow',
      );
      assert.equal(
        (await call(service, keys.operator, 'POST', `/v1/releases/${id}/canary`, { percent: 150 })).status,
        400,
      );
      assert.equal(
        (await call(service, keys.operator, 'POST', `/v1/releases/${id}/canary`, { percent: 20 })).body.release
          .canaryBasisPoints,
        2000,
      );
      const early = await call(service, keys.approver, 'POST', `/v1/releases/${id}/promote`, {});
      assert.equal(early.status, 403);
      assert.equal(early.body.code, 'ENTITLE_RELEASE_APPROVAL_REQUIRED');
      assert.equal(
        (await call(service, keys.approver, 'POST', `/v1/releases/${id}/approve`, { reason: 'read the report' }))
          .status,
        200,
      );
      const inconclusive = await call(service, keys.approver, 'POST', `/v1/releases/${id}/promote`, {});
      assert.equal(inconclusive.status, 409);
      assert.match(inconclusive.body.errors[0]!.message, /0 comparisons so far/);
      await service.db.query('UPDATE release_stats SET expected = 50 WHERE release_id = $1', [id]);
      const promoted = await call(service, keys.approver, 'POST', `/v1/releases/${id}/promote`, { reason: 'go' });
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
      assert.equal(promoted.body.release.state, 'active');

      assert.equal(
        (await call(service, keys.operator, 'POST', `/v1/releases/${id}/rollback`, {})).status,
        400,
        'a rollback needs a reason',
      );
      assert.equal(
        (await call(service, keys.operator, 'POST', `/v1/releases/${id}/rollback`, { reason: 'not agreed' })).body
          .release.state,
        'rolled-back',
      );

      const status = await call(service, keys.auditor, 'GET', `/v1/releases/${id}`);
      assert.deepEqual(
        status.body.steps.map((s) => `${s.action} by ${s.actor}`),
        [
          'release.created by test-policy-author',
          'release.validated by entitle',
          'release.backtested by test-policy-author',
          'release.backtested by test-policy-author',
          'release.backtested by test-policy-author',
          'release.shadow by test-policy-author',
          'release.canary by test-operator',
          'release.approved by test-approver',
          'release.active by test-approver',
          'release.rolled_back by test-operator',
        ],
      );
      const worklist = await call(service, keys.operator, 'GET', `/v1/releases/${id}/affected`);
      assert.equal(worklist.status, 200);
      assert.equal(worklist.body.decisions, 0);
      const csv = await call(service, keys.operator, 'GET', `/v1/releases/${id}/affected`, undefined, 'text/csv');
      assert.match(csv.type, /^text\/csv/);
      assert.match(csv.text, /^applicationId,decisionId,/);
      assert.equal((await call(service, keys.caseworker, 'GET', `/v1/releases/${id}/affected`)).status, 403);
      assert.equal((await call(service, keys.auditor, 'GET', '/v1/releases/not-a-release')).status, 404);
    } finally {
      await service.close();
    }
  });

  it('refuses a self-approval made with a second key or another spelling of the same person', async () => {
    const active = compile(beforeUprating(await ucBundle()));
    const service = await testService({ rules: new Map([['universal-credit', active]]) });
    try {
      await seedActiveVersions(service.db, [active.program]);
      const alice = (await createKey(service.db, 'alice-laptop', ['policy-author'], 'operator', 'Alice Smith')).key;
      const alicePhone = (
        await createKey(service.db, 'alice-phone', ['approver'], 'operator', ' ALICE  smith', { existingPerson: true })
      ).key;
      const aliceWide = (
        await createKey(service.db, 'alice-tablet', ['approver'], 'operator', 'Ａｌｉｃｅ Smith', {
          existingPerson: true,
        })
      ).key;
      const bob = (await createKey(service.db, 'bob-laptop', ['approver'], 'operator', 'Bob Jones')).key;
      const created = await call(service, alice, 'POST', '/v1/releases', {
        benefit: 'universal-credit',
        summary: 'taper to 57%',
        effective: '2025-04-07',
        expectations: 'changes:\n  - variable: earnedIncomeDeduction\n    direction: rise\n    why: taper\n',
        files: await filesOf(taper(beforeUprating(await ucBundle()), '57%')),
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.release.author, 'Alice Smith', 'the author is the person, not the key');
      const id = created.body.release.id;
      for (const key of [alicePhone, aliceWide]) {
        const own = await call(service, key, 'POST', `/v1/releases/${id}/approve`, { reason: 'looks fine to me' });
        assert.equal(own.status, 403, JSON.stringify(own.body));
        assert.equal(own.body.code, 'ENTITLE_RELEASE_APPROVAL_REQUIRED');
      }
      const approved = await call(service, bob, 'POST', `/v1/releases/${id}/approve`, { reason: 'read the report' });
      assert.equal(approved.status, 200, JSON.stringify(approved.body));
      const steps = (await call(service, bob, 'GET', `/v1/releases/${id}`)).body.steps;
      assert.deepEqual(
        steps.filter((s) => s.action !== 'release.validated').map((s) => `${s.action} by ${s.actor}`),
        ['release.created by Alice Smith', 'release.approved by Bob Jones'],
      );
    } finally {
      await service.close();
    }
  });

  it('confirms a provisional rate by an ordinary release: the backtest and the worklist name the decisions it changes', async () => {
    const active = compile(await ucBundle());
    const service = await testService({
      rules: new Map([['universal-credit', active]]),
      gates: { ...DEFAULT_GATES, minSample: 10 },
    });
    try {
      await seedActiveVersions(service.db, [active.program]);
      const { keys } = service;
      // Three carers in 2026/27, decided on the provisional carer element (209.34), and one
      // household in 2025/26 that used no provisional rate.
      const carer = (n: number) => {
        const h = household(n, '2026-06-01');
        return {
          ...h,
          household: { ...h.household, adults: [{ ...h.household.adults[0]!, monthlyNetEarnings: 0, carer: true }] },
        };
      };
      for (const input of [carer(1), carer(2), carer(4), household(5)]) {
        const made = await call(service, keys.assessor, 'POST', '/v1/assessments', input);
        assert.equal(made.status, 201, made.text);
      }
      // The confirmed figure, as a test supposes it: 209.40, six pence more.
      const confirmed = structuredClone(await ucBundle()) as unknown as {
        parameters: Record<string, { values: Record<string, unknown>[] }>;
      };
      const entry = confirmed.parameters.carerElementAmount!.values.at(-1)!;
      delete entry.provisional;
      delete entry.note;
      Object.assign(entry, { value: 209.4, source: 'S3 "Universal Credit" (a test: the figure as confirmed)' });
      const created = await call(service, keys['policy-author'], 'POST', '/v1/releases', {
        benefit: 'universal-credit',
        summary: 'confirm the 2026/27 carer element',
        effective: '2026-04-06',
        expectations: 'changes:\n  - variable: carerElement\n    direction: rise\n    why: the confirmed figure\n',
        files: await filesOf(confirmed as unknown as RuleSetBundle),
      });
      assert.equal(created.status, 201, created.text);
      const id = created.body.release.id;

      const backtest = await call(service, keys['policy-author'], 'POST', `/v1/releases/${id}/backtest`, { last: 10 });
      assert.equal(backtest.status, 200, backtest.text);
      assert.deepEqual(
        [backtest.body.report.compared, backtest.body.report.kinds.expected, backtest.body.report.kinds.unexpected],
        [4, 3, 0],
      );
      assert.deepEqual(backtest.body.report.examples.expected.map((e) => e.applicationId).sort(), [
        'LIVE-00001',
        'LIVE-00002',
        'LIVE-00004',
      ]);

      await call(service, keys['policy-author'], 'POST', `/v1/releases/${id}/shadow`, { percent: 100 });
      await call(service, keys.approver, 'POST', `/v1/releases/${id}/approve`, { reason: 'the Order is read' });
      await service.db.query('UPDATE release_stats SET expected = 50 WHERE release_id = $1', [id]);
      const promoted = await call(service, keys.approver, 'POST', `/v1/releases/${id}/promote`, { reason: 'go' });
      assert.equal(promoted.body.release.state, 'active', promoted.text);

      const worklist = await call(service, keys.operator, 'GET', `/v1/releases/${id}/affected`);
      assert.equal(worklist.status, 200, worklist.text);
      assert.equal(worklist.body.kind, 'provisional');
      assert.equal(worklist.body.decisions, 3, 'the decisions made on the provisional rate');
      assert.deepEqual(worklist.body.entries.map((e) => [e.applicationId, e.changePence, e.action]).sort(), [
        ['LIVE-00001', 6, 'pay arrears'],
        ['LIVE-00002', 6, 'pay arrears'],
        ['LIVE-00004', 6, 'pay arrears'],
      ]);
    } finally {
      await service.close();
    }
  });

  it('keeps a release in shadow for its minimum window unless two people waive it in an emergency', async () => {
    const active = compile(beforeUprating(await ucBundle()));
    const service = await testService({
      rules: new Map([['universal-credit', active]]),
      gates: { ...DEFAULT_GATES, minSample: 10, minShadowMinutes: 60 },
    });
    try {
      await seedActiveVersions(service.db, [active.program]);
      const { keys } = service;
      const carol = (await createKey(service.db, 'carol-laptop', ['approver'], 'operator', 'Carol Smith')).key;
      const created = await call(service, keys['policy-author'], 'POST', '/v1/releases', {
        benefit: 'universal-credit',
        summary: 'taper to 57%',
        effective: '2025-04-07',
        expectations: 'changes:\n  - variable: earnedIncomeDeduction\n    direction: rise\n    why: taper\n',
        files: await filesOf(taper(beforeUprating(await ucBundle()), '57%')),
      });
      const id = created.body.release.id;
      await call(service, keys['policy-author'], 'POST', `/v1/releases/${id}/shadow`, { percent: 100 });
      await call(service, keys.approver, 'POST', `/v1/releases/${id}/approve`, { reason: 'read the report' });
      // Enough comparisons, all as declared: only time stands between the release and promotion.
      await service.db.query('UPDATE release_stats SET expected = 5000 WHERE release_id = $1', [id]);

      const status = await call(service, keys.auditor, 'GET', `/v1/releases/${id}`);
      const window = (status.body as unknown as { shadowWindow: { minutes: number; remainingMinutes: number } })
        .shadowWindow;
      assert.deepEqual([window.minutes, window.remainingMinutes], [60, 60]);
      const early = await call(service, keys.approver, 'POST', `/v1/releases/${id}/promote`, { reason: 'go' });
      assert.equal(early.status, 409, early.text);
      assert.match(
        early.body.errors[0]!.message,
        /the shadow window of 60 minutes is not over: 60 minutes left, until /,
      );

      // One emergency approval is not enough; a second person's is.
      await call(service, keys.approver, 'POST', `/v1/releases/${id}/approve`, {
        emergency: true,
        reason: 'the regulations change at midnight',
      });
      assert.equal(
        (await call(service, keys.approver, 'POST', `/v1/releases/${id}/promote`, { reason: 'go' })).status,
        409,
      );
      await call(service, carol, 'POST', `/v1/releases/${id}/approve`, {
        emergency: true,
        reason: 'agreed: it cannot wait',
      });
      const promoted = await call(service, keys.approver, 'POST', `/v1/releases/${id}/promote`, { reason: 'go' });
      assert.equal(promoted.status, 200, promoted.text);
      const { rows } = await service.db.query<{ evidence: { shadowWindow: Record<string, unknown> } }>(
        "SELECT evidence FROM audit_events WHERE subject = $1 AND action = 'release.active'",
        [id],
      );
      assert.deepEqual(rows[0]!.evidence.shadowWindow.waivedBy, ['test-approver', 'Carol Smith']);
      assert.equal(rows[0]!.evidence.shadowWindow.waivedMinutes, 60);
    } finally {
      await service.close();
    }
  });
});
