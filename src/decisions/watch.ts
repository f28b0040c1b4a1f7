import type { Database } from '../store/index.ts';
import { fromRow, GENESIS_HASH, type DecisionRow } from './record.ts';
import { checkLink, type ChainProblem } from './verify.ts';

/**
 * Verifies the decision chain continuously inside the service, so "decisions are recorded and
 * verifiable" is a measured signal and not only a command someone remembers to run. It follows the
 * chain from the last record it verified to the head, a bounded page per tick (so a long chain is
 * caught up over a few minutes after start, without holding the event loop), and checks the head
 * names the last record. A record altered after this instance verified it is found by the full
 * `entitle audit verify`, which should also run on a schedule.
 */
export class ChainWatch {
  private seq = 0;
  private hash = GENESIS_HASH;
  private broken: ChainProblem | undefined;

  constructor(
    private readonly db: Database,
    private readonly report: (state: { intact: boolean; verified: number; problem?: ChainProblem }) => void,
    private readonly pageSize = 2_000,
    private readonly pagesPerTick = 10,
  ) {}

  /** Verifies what was added since the last tick; reports intact or the first problem found. */
  async tick(): Promise<void> {
    if (this.broken) return this.report({ intact: false, verified: this.seq, problem: this.broken });
    for (let page = 0; page < this.pagesPerTick; page++) {
      const { rows } = await this.db.query<DecisionRow>(
        'SELECT * FROM decisions WHERE seq > $1 ORDER BY seq LIMIT $2',
        [this.seq, this.pageSize],
      );
      for (const row of rows) {
        const record = fromRow(row);
        const problem = checkLink(record, this.seq + 1, this.hash);
        if (problem) {
          this.broken = problem;
          return this.report({ intact: false, verified: this.seq, problem });
        }
        this.seq = record.seq;
        this.hash = record.recordHash;
      }
      if (rows.length < this.pageSize) {
        // Caught up: the head must not name a record before the last one verified.
        const { rows: heads } = await this.db.query<{ seq: number }>('SELECT seq FROM chain_head');
        const head = Number(heads[0]?.seq ?? 0);
        if (head < this.seq) {
          this.broken = {
            seq: head,
            message: `the chain head names record ${head}, but record ${this.seq} exists: the head was altered`,
          };
          return this.report({ intact: false, verified: this.seq, problem: this.broken });
        }
        break;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.report({ intact: true, verified: this.seq });
  }
}
