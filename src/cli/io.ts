/** What a command may do to the outside world; tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (progress bars only then). */
  isTTY: boolean;
  env: Record<string, string | undefined>;
}

/** Bad usage or bad input: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type Command = (argv: string[], io: CliIo) => Promise<number>;
