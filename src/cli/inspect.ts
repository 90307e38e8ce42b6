import { readdirSync, readFileSync, type Stats, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type InspectFile,
  type InspectMatch,
  inspectFile,
  inspectReport,
  renderInspectTable,
} from '../format/index.js';
import { type CliIo, type Command, UsageError } from './io.js';

const HELP = `usage: ucode-staging inspect <file|dir>... [--json] [--match SIG[,PF]]

List every microcode blob in the given files (a folder means every regular file in it, by
name) and check each one exactly as the Linux loader does before a late load.

options:
  --json            machine-readable output (schema ucode-staging/inspect@1, see docs/format.md)
  --match SIG[,PF]  only blobs a CPU would accept: SIG is CPUID(1).EAX in hex (0xa06d1 or
                    a06d1); PF is the platform id 0-7 (MSR 0x17 bits 52:50, the CPU's flag is
                    1 << PF). Without PF any platform mask matches.
  -h, --help        this text

exit status: 0 all blobs valid, 1 a file would be rejected by the kernel, 2 usage error.
`;

interface InspectArgs {
  help: boolean;
  json: boolean;
  match: InspectMatch | null;
  paths: string[];
}

function parseMatch(text: string): InspectMatch {
  const m = /^(?:0x)?([0-9a-f]{1,8})(?:,([0-7]))?$/i.exec(text.trim());
  if (!m) {
    throw new UsageError(
      `bad --match '${text}': expected SIG[,PF] with SIG in hex (e.g. 0xa06d1) and PF a platform id 0-7`,
    );
  }
  return { signature: Number.parseInt(m[1], 16) >>> 0, platformId: m[2] === undefined ? null : Number(m[2]) };
}

function parseInspectArgs(argv: string[]): InspectArgs {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (err) {
    // parseArgs explains itself in a paragraph; the first sentence is the useful line.
    const message = err instanceof Error ? err.message.split('. ')[0] : String(err);
    throw new UsageError(message);
  }
  const { values, positionals } = parsed;
  const help = values.help === true;
  if (!help && positionals.length === 0) throw new UsageError('missing <file|dir> (see --help)');
  return {
    help,
    json: values.json === true,
    match: values.match === undefined ? null : parseMatch(values.match),
    paths: positionals,
  };
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      match: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function describeFsError(err: unknown): string {
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
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Resolves arguments to files before anything is printed, so a bad path fails cleanly.
 * Synchronous on purpose: a firmware folder is a few hundred small local files,
 * and one await per file left the process idle half of the time.
 */
function collectFiles(paths: string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    const info = fsCall(() => statSync(path), `cannot access '${path}'`);
    if (info.isFile()) {
      files.push(path);
    } else if (info.isDirectory()) {
      const names = fsCall(() => readdirSync(path), `cannot read folder '${path}'`);
      for (const name of names.sort()) {
        const entry = join(path, name);
        // stat, not lstat: firmware folders often hold symlinks to the real files.
        let entryInfo: Stats | undefined;
        try {
          entryInfo = statSync(entry);
        } catch {
          entryInfo = undefined;
        }
        if (entryInfo?.isFile()) files.push(entry);
      }
    } else {
      throw new UsageError(`'${path}' is neither a regular file nor a folder`);
    }
  }
  return files;
}

function fsCall<T>(call: () => T, what: string): T {
  try {
    return call();
  } catch (err) {
    throw new UsageError(`${what}: ${describeFsError(err)}`);
  }
}

function inspectPath(path: string, match: InspectMatch | null): InspectFile {
  const bytes = fsCall(() => readFileSync(path), `cannot read '${path}'`);
  return inspectFile(path, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), match);
}

/** Basenames read best; fall back to relative paths only when two inputs share a basename. */
function displayNames(paths: string[]): string[] {
  const bases = paths.map((p) => basename(p));
  const unique = new Set(bases).size === bases.length;
  return unique ? bases : paths.map((p) => relative(process.cwd(), p) || p);
}

export const inspectCommand: Command = async (argv: string[], io: CliIo): Promise<number> => {
  const args = parseInspectArgs(argv);
  if (args.help) {
    io.stdout(HELP);
    return 0;
  }
  const paths = collectFiles(args.paths);
  const files = paths.map((path) => inspectPath(path, args.match));
  const report = inspectReport(files, args.match);
  io.stdout(
    args.json ? `${JSON.stringify(report, null, 2)}\n` : renderInspectTable(report, displayNames(paths)),
  );
  return report.summary.invalidFiles > 0 ? 1 : 0;
};
