/** Progress for long work (simulation, backtests), at a terminal or in a log. Written by hand: a counter and a line. */
export interface Progress {
  update(done: number): void;
  /** Clears the bar, so the summary line that follows stands alone. */
  finish(): void;
}

/** How often progress is written as a line when stderr is not a terminal (a log, CI, a pipe). */
export const PROGRESS_LINE_MS = 5_000;

/**
 * Progress on stderr. At a terminal, a bar redrawn at most ten times a second (drawing costs more
 * than the work between two updates). Anywhere else (a log file, CI, a pipe), a plain line at most
 * every 5 s, and one when the work is done, so that a long run is never silent until it ends.
 */
export function progressBar(
  label: string,
  total: number,
  stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY' | 'columns'> = process.stderr,
  now: () => number = Date.now,
): Progress {
  if (total <= 0) return { update: () => undefined, finish: () => undefined };
  const started = now();
  const figures = (done: number) => {
    const seconds = (now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0;
    return { share: Math.min(1, done / total), seconds, rate, eta };
  };
  if (!stream.isTTY) {
    let written = started;
    let last = 0;
    const line = (done: number) => {
      const { share, seconds, rate, eta } = figures(done);
      const left = done < total && rate > 0 ? `, about ${eta} s left` : '';
      stream.write(
        `${label}: ${count(done)} of ${count(total)} (${Math.floor(share * 100)}%) in ${Math.round(seconds)} s, ${count(Math.round(rate))}/s${left}\n`,
      );
    };
    return {
      update(done) {
        last = done;
        if (now() - written < PROGRESS_LINE_MS) return;
        written = now();
        line(done);
      },
      finish() {
        line(last);
      },
    };
  }
  let drawn = 0;
  const draw = (done: number) => {
    const { share, rate, eta } = figures(done);
    const width = 24;
    const filled = Math.round(share * width);
    const speed = rate > 0 ? ` ${count(Math.round(rate))}/s${done < total ? ` ${eta}s left` : ''}` : '';
    const text = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.floor(share * 100)}% ${count(done)}/${count(total)}${speed}`;
    stream.write(`\r${text.slice(0, (stream.columns || 80) - 1)}\x1b[K`);
  };
  return {
    update(done) {
      const at = now();
      if (at - drawn < 100 && done < total) return;
      drawn = at;
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
