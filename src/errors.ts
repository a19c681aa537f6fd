/**
 * Typed errors. Domain code throws these; the CLI (src/cli.ts) is the one place that catches
 * them, prints them and chooses the exit code.
 */

/** The user's input or environment is at fault; `hint` says what to do next. */
export class UserError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'UserError';
    this.hint = hint;
  }
}

/** One located problem in an inventory: `FILE:LINE:COL: key.path: message`. */
export interface Problem {
  file: string;
  line: number;
  col: number;
  /** Dotted key path, e.g. `groups.django1.env.DEMO_DB`; `(document)` for the whole file. */
  path: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.path}: ${p.message}`;
}

/** The inventory was refused; every problem found is listed, not just the first. */
export class InventoryError extends UserError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in the inventory; nothing was written`,
      'fix the lines above, then run `plexctl validate` again',
    );
    this.name = 'InventoryError';
    this.problems = problems;
  }
}
