import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressBar, PROGRESS_LINE_MS } from './progress.ts';

/** A stream that keeps what is written, and a clock the test moves. */
function fake(isTTY: boolean) {
  const written: string[] = [];
  const clock = { at: 1_000_000 };
  return { written, clock, stream: { isTTY, columns: 80, write: (text: string) => written.push(text) > 0 } };
}

describe('progress', () => {
  it('writes a line at most every 5 s when not at a terminal, and one when done', () => {
    const { written, clock, stream } = fake(false);
    const progress = progressBar('comparing', 100_000, stream, () => clock.at);
    for (let done = 1; done <= 100_000; done++) {
      if (done % 1_000 === 0) clock.at += 200; // 1,000 done every 0.2 s: 20 s in all
      progress.update(done);
    }
    progress.finish();
    assert.equal(written.length, 5, written.join(''));
    assert.match(written[0]!, /^comparing: 25,000 of 100,000 \(25%\) in 5 s, 5,000\/s, about 15 s left\n$/);
    assert.match(written.at(-1)!, /^comparing: 100,000 of 100,000 \(100%\) in 20 s, 5,000\/s\n$/);
    assert.ok(
      written.every((line) => !line.includes('\r') && !line.includes('\x1b')),
      'plain lines, no bar',
    );
    assert.equal(PROGRESS_LINE_MS, 5_000);
  });

  it('draws a bar at a terminal, and clears it when done', () => {
    const { written, clock, stream } = fake(true);
    const progress = progressBar('recording', 10, stream, () => clock.at);
    clock.at += 1_000;
    progress.update(5);
    progress.finish();
    assert.equal(written[0], '\rrecording [############------------] 50% 5/10 5/s 1s left\x1b[K');
    assert.equal(written.at(-1), '\r\x1b[K');
  });
});
