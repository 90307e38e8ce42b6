import { fstatSync } from 'node:fs';
import { exitNow, stdioWriter } from './output-file.js';
import { reportError, runCli } from './run.js';

// The CLI's process entry, called by the bin (bin.ts) with the command line; returns the
// exit status. Standard output and error are written synchronously with fs.writeSync (never
// through process.stdout, whose errors arrive later as an unhandled 'error' event): a closed
// stdout (`| head -1`) exits 141 quietly, as if killed by SIGPIPE; a full one (`> /dev/full`)
// is one line on stderr and exit 2. Temporary files are removed on every exit (see
// output-file.ts).
export async function main(argv: string[]): Promise<number> {
  const stderrIsTTY = await isTerminal(2);
  const io = {
    stdout: stdioWriter(1),
    stderr: stdioWriter(2),
    isTTY: stderrIsTTY,
    stdoutIsTTY: await isTerminal(1),
    columns: stderrIsTTY ? process.stderr.columns : undefined,
    env: process.env,
  };

  // Anything that escapes the command (an error in a callback, a rejected promise nobody
  // awaited) still ends as one line, with the temporary files removed.
  const fatal = (err: unknown): void => {
    exitNow(reportError(`ucode-staging${argv[0] ? ` ${argv[0]}` : ''}`, err, io));
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);

  return runCli(argv, io);
}

/**
 * Whether `fd` is a terminal. Only a character device can be one: a pipe or a file is
 * answered by fstat, and node:tty (which loads Node's whole stream stack, a few ms of
 * every start-up) is loaded only for a character device.
 */
async function isTerminal(fd: number): Promise<boolean> {
  try {
    if (!fstatSync(fd).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  const { isatty } = await import('node:tty');
  return isatty(fd);
}
