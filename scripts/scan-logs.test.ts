import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const scanner = fileURLToPath(new URL('./scan-logs.js', import.meta.url));

function scan(lines: string[]): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'scan-'));
  try {
    writeFileSync(join(dir, 'x.log'), lines.join('\n'));
    const result = spawnSync(process.execPath, [scanner, dir, '1'], { encoding: 'utf8' });
    return { status: result.status, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true });
  }
}

describe('the log scan', () => {
  it('passes clean logs', () => {
    assert.equal(scan(['{"level":30,"msg":"request completed","res":{"statusCode":201}}']).status, 0);
  });
  for (const [what, line] of [
    ['a date of birth', '{"msg":"x","dob":"1977-07-17"}'],
    ['an input body', '{"req":{"body":{"household":{"adults":[]}}}}'],
    ['an API key', '{"headers":{"authorization":"Bearer ent_abcdefghijklmnopqrstuvwxyz"}}'],
  ]) {
    it(`fails logs holding ${what}`, () => {
      const { status, stderr } = scan([line!]);
      assert.equal(status, 1);
      assert.match(stderr, /personal data or secrets/);
    });
  }
});
