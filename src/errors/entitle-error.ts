import { errorRegistry, type ErrorCode } from './registry.ts';

/** One problem with one field or one place in a file, in words a caseworker can act on. */
export interface Problem {
  /** Field path such as `adults[0].dateOfBirth`, when the problem is about input. */
  readonly field?: string;
  /** File, line and column (1-based), when the problem is about a source file. */
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}

/**
 * The error every Entitle module throws on purpose. It carries a registered code and, where
 * there is more than one thing wrong, every problem at once. It never carries input values,
 * so it is safe to log.
 */
export class EntitleError extends Error {
  readonly code: ErrorCode;
  readonly problems: readonly Problem[];
  /** Members added to the problem document, such as the id of a decision in doubt. */
  readonly extensions: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    detail: string,
    problems: readonly Problem[] = [],
    extensions: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = 'EntitleError';
    this.code = code;
    this.problems = problems;
    this.extensions = extensions;
  }

  get status(): number {
    return errorRegistry[this.code].status;
  }

  get title(): string {
    return errorRegistry[this.code].title;
  }
}

/** Formats a problem as one line: `file:line:column: message` or `field: message`. */
export function formatProblem(problem: Problem): string {
  if (problem.file !== undefined) {
    const where = [problem.file, problem.line, problem.column].filter((p) => p !== undefined).join(':');
    return `${where}: ${problem.message}`;
  }
  return problem.field !== undefined ? `${problem.field}: ${problem.message}` : problem.message;
}
