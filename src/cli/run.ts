import { readFileSync } from 'node:fs';
import { takeColorOption } from './color.js';
import { type CliIo, type Command, describeErrno, EXIT, isErrnoError, printable, UsageError } from './io.js';
import { clearProgress } from './progress.js';
import { didYouMean, hanging, helpText } from './spec.js';

// Loaded lazily so `inspect` does not pay for the simulator's modules and vice versa.
const commands: Record<string, () => Promise<Command>> = {
  simulate: async () => (await import('./simulate.js')).simulateCommand,
  compare: async () => (await import('./compare.js')).compareCommand,
  campaign: async () => (await import('./campaign.js')).campaignCommand,
  inspect: async () => (await import('./inspect.js')).inspectCommand,
  probe: async () => (await import('./probe.js')).probeCommand,
  fleet: async () => (await import('./fleet.js')).fleetCommand,
  playground: async () => (await import('./playground.js')).playgroundCommand,
};

/** The version in package.json (one level above dist/). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function usage(): Promise<string> {
  const { COMMANDS } = await import('./commands.js');
  const lines = ['usage: ucode-staging <command> [options]', '', 'commands:'];
  for (const c of COMMANDS) {
    if (!c.name.includes(' ')) lines.push(...hanging(`  ${c.name}`, c.summary, 14, 80));
  }
  lines.push(
    ...hanging('  help', "a command's options: ucode-staging help <command> (or <command> --help)", 14, 80),
    ...hanging('  completion', 'bash or zsh completion: source <(ucode-staging completion bash)', 14, 80),
    '',
    '  --version   print the version',
  );
  return `${lines.join('\n')}\n`;
}

/** `help`, `help simulate`, `help campaign merge`, `help --man`, `help --markdown`. */
async function help(args: string[], io: CliIo): Promise<number> {
  const { COMMANDS } = await import('./commands.js');
  if (args.length === 0) {
    io.stdout(await usage());
    return EXIT.ok;
  }
  if (args[0] === '--markdown') {
    const { cliMarkdown } = await import('./cli-doc.js');
    io.stdout(cliMarkdown(COMMANDS));
    return EXIT.ok;
  }
  if (args[0] === '--man') {
    const { manPage } = await import('./man.js');
    io.stdout(manPage(COMMANDS, version(), MAN_DATE));
    return EXIT.ok;
  }
  const name = args.join(' ');
  const spec = COMMANDS.find((c) => c.name === name);
  if (!spec)
    throw new UsageError(
      unknownCommand(
        name,
        COMMANDS.map((c) => c.name),
      ),
    );
  io.stdout(helpText(spec));
  return EXIT.ok;
}

/** The man page's date: the release it documents, not the day it was built (reproducible builds). */
const MAN_DATE = '2026-11-30';

async function completion(args: string[], io: CliIo): Promise<number> {
  const { COMMANDS } = await import('./commands.js');
  const { bashCompletion, zshCompletion } = await import('./completion.js');
  const shell = args[0];
  if (shell === 'bash') io.stdout(bashCompletion(COMMANDS));
  else if (shell === 'zsh') io.stdout(zshCompletion(COMMANDS));
  else
    throw new UsageError(
      `completion expects bash or zsh, got ${shell === undefined ? 'nothing' : `'${printable(shell)}'`}`,
    );
  return EXIT.ok;
}

function unknownCommand(name: string, known: readonly string[]): string {
  const guess = didYouMean(name, known);
  return `unknown command '${printable(name)}'${guess ? ` (did you mean '${guess}'?)` : ''}`;
}

export async function runCli(argvIn: string[], ioIn: CliIo): Promise<number> {
  let argv: string[];
  let io: CliIo;
  try {
    const taken = takeColorOption(argvIn, ioIn.env, ioIn.stdoutIsTTY === true);
    argv = taken.argv;
    io = { ...ioIn, color: taken.color };
  } catch (err) {
    return reportError('ucode-staging', err, ioIn);
  }
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    io.stdout(await usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.stdout(`ucode-staging ${version()}\n`);
    return EXIT.ok;
  }
  try {
    if (name === 'help') return await help(rest, io);
    if (name === 'completion') return await completion(rest, io);
    const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
    if (!load) {
      io.stderr(`ucode-staging: ${unknownCommand(name, [...Object.keys(commands), 'help', 'completion'])}\n`);
      io.stderr("Run 'ucode-staging --help' for the commands.\n");
      return EXIT.usage;
    }
    const command = await load();
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
