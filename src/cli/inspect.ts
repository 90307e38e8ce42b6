import { type Dir, type Dirent, opendirSync, type Stats, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import {
  type InspectFile,
  type InspectMatch,
  inspectFile,
  inspectReport,
  renderInspectTable,
  toJson,
} from '../index.js';
import { INSPECT } from './inspect-spec.js';
import { type CliIo, type Command, describeErrno, printable, UsageError } from './io.js';
import {
  describeFileType,
  formatSize,
  MICROCODE_FILE_MAX_BYTES,
  readInputFile,
  ScratchBuffer,
} from './read-input.js';
import { helpText, parseCommand } from './spec.js';

/** At most this many files in all (a real firmware folder holds a few hundred). */
export const INSPECT_MAX_FILES = 10_000;
/** A folder with more entries than this is refused before its files are read. */
export const INSPECT_MAX_FOLDER_ENTRIES = 100_000;
/** At most this many bytes read in all (each file at most MICROCODE_FILE_MAX_BYTES). */
export const INSPECT_MAX_TOTAL_BYTES = 1 << 30;

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
  const { values, positionals } = parseCommand(INSPECT, argv);
  return {
    help: values.help === true,
    json: values.json === true,
    match: typeof values.match === 'string' ? parseMatch(values.match) : null,
    paths: positionals,
  };
}

/**
 * Resolves arguments to files before anything is printed, so a bad path fails cleanly.
 * Synchronous on purpose: a firmware folder is a few hundred small local files,
 * and one await per file left the process idle half of the time.
 * Bounded: at most INSPECT_MAX_FILES files, and a folder is read entry by entry (never more
 * than INSPECT_MAX_FOLDER_ENTRIES names held). Entries that are not regular files are skipped:
 * subfolders quietly, FIFOs, devices, sockets and broken links with a note through `warn`.
 */
function collectFiles(paths: string[], warn: (text: string) => void): string[] {
  const files: string[] = [];
  const add = (file: string) => {
    if (files.length >= INSPECT_MAX_FILES)
      throw new UsageError(`more than ${INSPECT_MAX_FILES} files to inspect; give fewer files or folders`);
    files.push(file);
  };
  for (const path of paths) {
    const info = fsCall(() => statSync(path), `cannot access '${path}'`);
    if (info.isFile()) {
      add(path);
    } else if (info.isDirectory()) {
      for (const found of folderEntries(path).sort((a, b) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
      )) {
        const entry = join(path, found.name);
        // The folder listing knows most entries' types; a symlink (firmware folders often
        // hold links to the real files) or an unknown type is followed with stat.
        let entryInfo: Pick<Stats, 'isFile' | 'isDirectory'> & Parameters<typeof describeFileType>[0] = found;
        if (found.isSymbolicLink() || !knownType(found)) {
          try {
            entryInfo = statSync(entry);
          } catch (err) {
            warn(`ucode-staging inspect: skipping '${entry}': ${describeErrno(err)}\n`);
            continue;
          }
        }
        if (entryInfo.isFile()) add(entry);
        else if (!entryInfo.isDirectory())
          warn(`ucode-staging inspect: skipping '${entry}': it is ${describeFileType(entryInfo)}\n`);
      }
    } else {
      throw new UsageError(`'${path}' is ${describeFileType(info)}, neither a regular file nor a folder`);
    }
  }
  return files;
}

/** Whether a folder listing gave the entry's type (some file systems report none). */
function knownType(d: Dirent): boolean {
  return (
    d.isFile() ||
    d.isDirectory() ||
    d.isFIFO() ||
    d.isCharacterDevice() ||
    d.isBlockDevice() ||
    d.isSocket() ||
    d.isSymbolicLink()
  );
}

/** The entries of a folder, read one by one so that a huge folder is refused without reading it all. */
function folderEntries(path: string): Dirent[] {
  const dir: Dir = fsCall(() => opendirSync(path), `cannot read folder '${path}'`);
  const names: Dirent[] = [];
  try {
    for (;;) {
      const entry = fsCall(() => dir.readSync(), `cannot read folder '${path}'`);
      if (entry === null) break;
      if (names.length >= INSPECT_MAX_FOLDER_ENTRIES)
        throw new UsageError(`folder '${path}' has more than ${INSPECT_MAX_FOLDER_ENTRIES} entries`);
      names.push(entry);
    }
  } finally {
    dir.closeSync();
  }
  return names;
}

function fsCall<T>(call: () => T, what: string): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${what}: ${describeErrno(err)}`);
  }
}

function inspectFiles(paths: string[], match: InspectMatch | null): InspectFile[] {
  let total = 0;
  // inspectFile keeps no reference to the bytes: one buffer serves every file.
  const scratch = new ScratchBuffer();
  return paths.map((path) => {
    const bytes = readInputFile(path, {
      what: 'microcode file',
      maxBytes: MICROCODE_FILE_MAX_BYTES,
      scratch,
      // collectFiles() has just found each to be a regular file.
      knownRegularFile: true,
    });
    total += bytes.length;
    if (total > INSPECT_MAX_TOTAL_BYTES)
      throw new UsageError(
        `the files to inspect hold more than ${formatSize(INSPECT_MAX_TOTAL_BYTES)} in all`,
      );
    return inspectFile(path, bytes, match);
  });
}

/** Basenames read best; fall back to relative paths only when two inputs share a basename. */
function displayNames(paths: string[]): string[] {
  const bases = paths.map((p) => basename(p));
  const unique = new Set(bases).size === bases.length;
  // Names are printed on a terminal: control characters in them are shown escaped.
  return (unique ? bases : paths.map((p) => relative(process.cwd(), p) || p)).map(printable);
}

export const inspectCommand: Command = async (argv: string[], io: CliIo): Promise<number> => {
  const args = parseInspectArgs(argv);
  if (args.help) {
    io.stdout(helpText(INSPECT));
    return 0;
  }
  const paths = collectFiles(args.paths, io.stderr);
  const files = inspectFiles(paths, args.match);
  const report = inspectReport(files, args.match);
  io.stdout(args.json ? `${toJson(report, 2)}\n` : renderInspectTable(report, displayNames(paths)));
  return report.summary.invalidFiles > 0 ? 1 : 0;
};
