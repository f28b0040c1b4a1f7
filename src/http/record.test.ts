import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyReceipt, type Receipt } from '../decisions/index.ts';
import { openCheckpoint, verifyConsistency } from '../log/index.ts';
import {
  canaryInput,
  placeQueued,
  runEntitle,
  TEST_LOG_KEY,
  TEST_VERIFIER,
  testService,
  type TestService,
} from '../testing/index.ts';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** Every way of changing one value of a JSON document: each leaf altered, each array shortened. */
function alterations(value: unknown, path: string[] = []): { path: string; apply: (root: unknown) => unknown }[] {
  const at = (root: unknown, change: (v: unknown) => unknown): unknown => {
    const copy = structuredClone(root);
    if (path.length === 0) return change(copy);
    let parent = copy as Record<string, unknown>;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
    parent[path.at(-1)!] = change(parent[path.at(-1)!]);
    return copy;
  };
  const name = path.join('.') || '(whole)';
  if (Array.isArray(value))
    return [
      ...(value.length > 0
        ? [{ path: `${name} (shortened)`, apply: (r: unknown) => at(r, (v) => (v as unknown[]).slice(1)) }]
        : []),
      ...value.flatMap((item, i) => alterations(item, [...path, String(i)])),
    ];
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([key, item]) => alterations(item, [...path, key]));
  const changed = (v: unknown): unknown =>
    typeof v === 'number'
      ? v + 1
      : typeof v === 'boolean'
        ? !v
        : typeof v === 'string'
          ? /^[A-Za-z0-9+/]+=*$/.test(v) && v.length >= 40
            ? `${v[0] === 'A' ? 'B' : 'A'}${v.slice(1)}`
            : `${v}x`
          : 'x';
  return [{ path: name, apply: (r: unknown) => at(r, changed) }];
}

describe('the verifiable record over HTTP', () => {
  let service: TestService;
  before(async () => {
    service = await testService();
  });
  after(() => service.close());

  const assess = async (applicationId: string) => {
    const response = await service.app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: bearer(service.keys.assessor),
      payload: { ...canaryInput, applicationId },
    });
    assert.equal(response.statusCode, 201, response.body);
    return response.json<{ decisionId: string }>().decisionId;
  };

  it('serves a signed checkpoint to anyone, and consistency proofs between checkpoints', async () => {
    await assess('RECORD-1');
    await placeQueued(service.db);
    const first = await service.app.inject({ url: '/v1/log/checkpoint' });
    assert.equal(first.statusCode, 200);
    const older = openCheckpoint(first.body, TEST_VERIFIER, 'entitle.test/decisions');
    const status = await service.app.inject('/status');
    assert.match(
      status.body,
      new RegExp(`It held ${older.size} decisions? when it was last signed at <time datetime="[^"]+">`),
    );
    await assess('RECORD-2');
    await assess('RECORD-3');
    await placeQueued(service.db);
    const newer = openCheckpoint((await service.app.inject({ url: '/v1/log/checkpoint' })).body, TEST_VERIFIER);
    assert.equal(newer.size, older.size + 2);
    const proof = await service.app.inject({ url: `/v1/log/consistency?from=${older.size}&to=${newer.size}` });
    assert.equal(proof.statusCode, 200, proof.body);
    const hashes = proof.json<{ proof: string[] }>().proof.map((h) => Buffer.from(h, 'base64'));
    assert.ok(verifyConsistency(older.size, newer.size, hashes, older.root, newer.root));
    const beyond = await service.app.inject({ url: `/v1/log/consistency?from=1&to=${newer.size + 5}` });
    assert.equal(beyond.statusCode, 400);
    assert.match(beyond.body, /"field":"to"/);
    const audit = await service.app.inject({ url: '/v1/log/checkpoint?log=audit' });
    assert.ok([200, 503].includes(audit.statusCode));
    assert.equal((await service.app.inject({ url: '/v1/log/public-key' })).body.trim(), TEST_VERIFIER.text);
  });

  it('gives a receipt that verifies offline, and fails when any field of it is altered', async () => {
    const id = await assess('RECORD-RECEIPT');
    await placeQueued(service.db);
    const response = await service.app.inject({
      url: `/v1/decisions/${id}/receipt`,
      headers: bearer(service.keys.caseworker),
    });
    assert.equal(response.statusCode, 200, response.body);
    const receipt = response.json<Receipt>();
    assert.deepEqual(verifyReceipt(receipt, TEST_VERIFIER), {
      ok: true,
      problems: [],
      decisionId: id,
      leafIndex: receipt.leafIndex,
      treeSize: receipt.treeSize,
    });
    const cases = alterations(receipt).filter((c) => c.path !== 'format');
    assert.ok(cases.length > 30, `only ${cases.length} fields to alter`);
    for (const alteration of cases) {
      const result = verifyReceipt(alteration.apply(receipt), TEST_VERIFIER);
      assert.equal(result.ok, false, `altering ${alteration.path} went unnoticed`);
      assert.ok(result.problems.length > 0);
    }

    // The same offline, with the command line and nothing but the verifier key.
    const dir = await mkdtemp(join(tmpdir(), 'entitle-receipt-'));
    try {
      await writeFile(join(dir, 'receipt.json'), response.body);
      await writeFile(join(dir, 'log.pub'), `${TEST_VERIFIER.text}\n`);
      const offline = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', ENTITLE_LOG_SIGNING_KEY: '' };
      const good = await runEntitle(
        ['receipt', 'verify', join(dir, 'receipt.json'), '--key', join(dir, 'log.pub')],
        offline,
      );
      assert.equal(good.code, 0, good.stderr);
      assert.match(good.stdout, new RegExp(`decision ${id} is leaf ${receipt.leafIndex}`));
      const altered = {
        ...receipt,
        decision: { ...receipt.decision, outcome: { ...(receipt.decision.outcome as object), amount: 9999 } },
      };
      await writeFile(join(dir, 'altered.json'), JSON.stringify(altered));
      const bad = await runEntitle(
        ['receipt', 'verify', join(dir, 'altered.json'), '--key', join(dir, 'log.pub')],
        offline,
      );
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /"decision" was altered/);
      const key = await runEntitle(['log', 'public-key'], { ENTITLE_LOG_SIGNING_KEY: TEST_LOG_KEY });
      assert.equal(key.stdout.trim(), TEST_VERIFIER.text);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to serve a decision altered in the database, and raises the integrity alarm', async () => {
    const id = await assess('RECORD-ALTERED');
    await placeQueued(service.db);
    const good = await service.app.inject({ url: `/v1/decisions/${id}`, headers: bearer(service.keys.caseworker) });
    assert.equal(good.statusCode, 200);
    assert.equal(typeof good.json<{ leafIndex: number }>().leafIndex, 'number');
    await service.db.query("UPDATE decisions SET outcome = jsonb_set(outcome, '{amount}', '9999') WHERE id = $1", [id]);
    const refused = await service.app.inject({ url: `/v1/decisions/${id}`, headers: bearer(service.keys.caseworker) });
    assert.equal(refused.statusCode, 500);
    assert.equal(refused.json<{ code: string }>().code, 'ENTITLE_RECORD_INTEGRITY');
    assert.ok(!refused.body.includes('9999'));
    const receipt = await service.app.inject({
      url: `/v1/decisions/${id}/receipt`,
      headers: bearer(service.keys.caseworker),
    });
    assert.equal(receipt.statusCode, 500);
    const metrics = await service.app.inject({ url: '/metrics' });
    assert.match(metrics.body, /^entitle_chain_intact 0$/m);
  });
});
