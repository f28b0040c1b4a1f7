/** Progress for long work (simulation, backtests), for people at a terminal. Written by hand: a counter and a line. */
export interface Progress {
  update(done: number): void;
  /** Clears the bar, so the summary line that follows stands alone. */
  finish(): void;
}

/**
 * A progress bar on stderr, drawn only when stderr is a terminal (never into a log file or a
 * pipe), at most ten times a second: drawing costs more than the work between two updates.
 */
export function progressBar(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total <= 0) return { update: () => undefined, finish: () => undefined };
  const started = Date.now();
  let drawn = 0;
  const draw = (done: number) => {
    const share = Math.min(1, done / total);
    const width = 24;
    const filled = Math.round(share * width);
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0;
    const speed = rate > 0 ? ` ${count(Math.round(rate))}/s${done < total ? ` ${eta}s left` : ''}` : '';
    const text = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(share * 100)}% ${count(done)}/${count(total)}${speed}`;
    stream.write(`\r${text.slice(0, (stream.columns || 80) - 1)}\x1b[K`);
  };
  return {
    update(done) {
      const now = Date.now();
      if (now - drawn < 100 && done < total) return;
      drawn = now;
      draw(done);
    },
    finish() {
      stream.write('\r\x1b[K');
    },
  };
}

/** A whole number for people: 1,234,567. */
export function count(n: number): string {
  return n.toLocaleString('en-GB');
}
