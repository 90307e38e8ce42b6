/** What a command may do to the outside world; tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (progress bars only then). */
  isTTY: boolean;
  /** The terminal's width in columns, when stderr is one. */
  columns?: number;
  /** Whether standard output is a terminal (colour by default only then). */
  stdoutIsTTY?: boolean;
  /** Whether to colour standard output (see color.ts: --color, NO_COLOR, a terminal). */
  color?: boolean;
  env: Record<string, string | undefined>;
}

/** Bad usage or bad input (including an output that cannot be written): printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export type Command = (argv: string[], io: CliIo) => Promise<number>;

/**
 * Exit statuses of every command (the commands' --help say which of 0/1 apply):
 * 0 done, 1 the run failed or an invariant was violated, 2 bad usage, bad input or an output
 * that cannot be written, 3 a bug in ucode-staging, 130/143 stopped by SIGINT/SIGTERM,
 * 141 standard output was closed by its reader (as if killed by SIGPIPE).
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  internal: 3,
  sigint: 130,
  sigpipe: 141,
  sigterm: 143,
} as const;

/** An fs error's code in words, for one-line messages ('no such file or directory'). */
export function describeErrno(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'not a directory';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EROFS':
      return 'read-only file system';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENAMETOOLONG':
      return 'file name too long';
    case 'EIO':
      return 'input/output error';
    case 'EFBIG':
      return 'file too large';
    case 'EPIPE':
      return 'broken pipe (the reader went away)';
    case 'ENXIO':
      return 'no such device or address';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    case 'EBUSY':
      return 'device or resource busy';
    case 'ETXTBSY':
      return 'text file busy';
    default: {
      const message = err instanceof Error ? err.message : String(err);
      return message.split('\n')[0]!;
    }
  }
}

/** Whether `err` is a Node system error (it has an errno code such as ENOENT). */
export function isErrnoError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    /^E[A-Z0-9]+$/.test((err as NodeJS.ErrnoException).code!) &&
    typeof (err as NodeJS.ErrnoException).syscall === 'string'
  );
}

/** Control characters escaped for a terminal: the library's one definition. */
export { printable } from '../index.js';
