import { latestCheckpoint, leafHash, NoteError, openStored, TreeEdge, type Verifiers } from '../log/index.ts';
import type { Database } from '../store/index.ts';
import { fromRow } from './record.ts';
import type { ChainProblem } from './verify.ts';
import { placedDecisions, recordProblem } from './verify.ts';

/**
 * Verifies the decision log continuously inside the service, so "decisions are recorded and
 * verifiable" is a measured signal and not only a command someone remembers to run. It rebuilds
 * the tree from the decisions themselves, a bounded page per tick (so a long log is caught up
 * over a few minutes after start, without holding the event loop), and at each newest checkpoint
 * checks the signature and that its own tree gives the signed root. A log that shrinks below what
 * this instance has verified, or a checkpoint that does not match, breaks it. A record altered
 * after this instance verified it is found on read (each read checks its record against the log)
 * and by the full `entitle audit verify`, which also runs on a schedule.
 */
export class ChainWatch {
  private readonly edge = TreeEdge.empty();
  private broken: ChainProblem | undefined;

  constructor(
    private readonly db: Database,
    private readonly verifier: Verifiers,
    private readonly report: (state: { intact: boolean; verified: number; problem?: ChainProblem }) => void,
    private readonly pageSize = 2_000,
    private readonly pagesPerTick = 10,
  ) {}

  private fail(message: string, id?: string): void {
    this.broken = { seq: this.edge.treeSize, message, ...(id ? { id } : {}) };
    this.report({ intact: false, verified: this.edge.treeSize, problem: this.broken });
  }

  /** Verifies what was added since the last tick; reports intact or the first problem found. */
  async tick(): Promise<void> {
    if (this.broken) return this.report({ intact: false, verified: this.edge.treeSize, problem: this.broken });
    let latest;
    try {
      latest = await latestCheckpoint(this.db, 'decisions');
    } catch (error) {
      if (!(error instanceof NoteError)) throw error;
      return this.fail(`the newest checkpoint row cannot be read as a checkpoint: ${error.message}`);
    }
    const target = latest?.size ?? 0;
    if (target < this.edge.treeSize)
      return this.fail(
        `the decision log shrank: this instance verified ${this.edge.treeSize} leaves, the newest checkpoint names ${target}`,
      );
    for (let page = 0; page < this.pagesPerTick && this.edge.treeSize < target; page++) {
      const rows = await placedDecisions(this.db, this.edge.treeSize, target, this.pageSize);
      if (rows.length === 0) return this.fail(`leaf ${this.edge.treeSize} of the decision log is missing`);
      for (const row of rows) {
        const index = Number(row.leaf_index);
        if (index !== this.edge.treeSize) return this.fail(`leaf ${this.edge.treeSize} of the decision log is missing`);
        if (row.id === null) return this.fail(`decision ${row.ref} (leaf ${index}) was deleted`);
        const problem = recordProblem(fromRow(row), row.leaf);
        if (problem) return this.fail(`${problem} (leaf ${index})`, row.id);
        this.edge.append(leafHash(row.leaf));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (latest && this.edge.treeSize === target) {
      try {
        openStored(latest, this.verifier);
      } catch (error) {
        return this.fail(`the newest checkpoint does not carry the log's signature: ${(error as Error).message}`);
      }
      if (!latest.root.equals(this.edge.root()))
        return this.fail(
          `the decisions no longer give the root of the checkpoint of ${target} leaves: the log was rewritten`,
        );
    }
    this.report({ intact: true, verified: this.edge.treeSize });
  }

  /** A problem found elsewhere (a read whose record failed its check): the watch stays broken. */
  breakWith(problem: ChainProblem): void {
    if (!this.broken) {
      this.broken = problem;
      this.report({ intact: false, verified: this.edge.treeSize, problem });
    }
  }
}
