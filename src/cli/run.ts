import { type CliIo, type Command, describeErrno, EXIT, isErrnoError, printable, UsageError } from './io.js';
import { clearProgress } from './progress.js';

// Loaded lazily so `inspect` does not pay for the simulator's modules and vice versa.
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  simulate: {
    summary: 'run one late load with staging on an emulated machine (the main job)',
    load: async () => (await import('./simulate.js')).simulateCommand,
  },
  compare: {
    summary: 'the same load with staging off and on, optionally swept over sizes, HZ, machines',
    load: async () => (await import('./compare.js')).compareCommand,
  },
  campaign: {
    summary: 'many seeded runs over a space of machines, faults and policies, with invariant checks',
    load: async () => (await import('./campaign.js')).campaignCommand,
  },
  inspect: {
    summary: 'list and check Intel microcode files (like iucode_tool -l)',
    load: async () => (await import('./inspect.js')).inspectCommand,
  },
  probe: {
    summary: 'what a late load would do on this host (read-only): verdict, staging, predicted stop',
    load: async () => (await import('./probe.js')).probeCommand,
  },
};

export function usage(): string {
  const lines = ['usage: ucode-staging <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${c.summary}`);
  lines.push('', "Run 'ucode-staging <command> --help' for a command's options.");
  return `${lines.join('\n')}\n`;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    io.stderr(`ucode-staging: unknown command '${printable(name)}'\n${usage()}`);
    return EXIT.usage;
  }
  try {
    const command = await entry.load();
    return await command(rest, io);
  } catch (err) {
    clearProgress();
    return reportError(`ucode-staging ${name}`, err, io);
  }
}

/** Where a bug is to be reported (the one line an internal error ends with). */
export const REPORT_BUGS =
  'this is a bug in ucode-staging: please report it with the command line that caused it';

/**
 * Any error that reaches the top, as one line on stderr (never a stack), and its exit status:
 * 2 for bad usage or input (including system errors on a user's file and inputs too large to
 * hold), 1 for a run that could not finish, 3 only for a bug. UCODE_STAGING_DEBUG=1 adds the stack.
 */
export function reportError(prefix: string, err: unknown, io: Pick<CliIo, 'stderr' | 'env'>): number {
  const say = (text: string) => io.stderr(`${prefix}: ${printable(text)}\n`);
  if (err instanceof UsageError) {
    say(err.message);
    return EXIT.usage;
  }
  if (err instanceof Error && err.name === 'SimulationLimitError') {
    say(`the run did not finish: ${firstLine(err.message)}`);
    return EXIT.failed;
  }
  if (isErrnoError(err)) {
    // A system error on a path the user gave (a file that vanished, a full disk): their input.
    const path = typeof err.path === 'string' ? ` '${err.path}'` : '';
    say(`cannot ${err.syscall}${path}: ${describeErrno(err)}`);
    return EXIT.usage;
  }
  if (isTooLarge(err)) {
    say(`the input asks for more than fits in memory (${firstLine((err as Error).message)})`);
    return EXIT.usage;
  }
  const msg =
    err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  say(`internal error: ${firstLine(msg)} (${REPORT_BUGS})`);
  if (io.env.UCODE_STAGING_DEBUG && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
  return EXIT.internal;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}

/** Strings, arrays or buffers beyond what V8 can hold: the input is too large, not a bug. */
function isTooLarge(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ERR_STRING_TOO_LONG' || code === 'ERR_FS_FILE_TOO_LARGE' || code === 'ERR_BUFFER_TOO_LARGE')
    return true;
  return (
    err instanceof RangeError &&
    /Invalid string length|Invalid array length|Array buffer allocation failed|Invalid typed array length/.test(
      err.message,
    )
  );
}
