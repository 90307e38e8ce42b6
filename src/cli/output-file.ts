import {
  accessSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  readlinkSync,
  realpathSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describeErrno, EXIT, isErrnoError, UsageError } from './io.js';

/**
 * Every file the CLI writes goes through here. The rules, by what the path is:
 *
 * - a regular file, or a path that does not exist yet: written atomically (a temporary file in
 *   the same folder, fsync, rename over the target), so a reader sees the old file or the whole
 *   new one; a replaced file keeps its permission bits (and, when we are root, its owner);
 * - a symlink: followed, and its target written by those rules (the link stays a link); a
 *   symlink in a sticky world-writable folder (/tmp) owned by someone else is not followed,
 *   as the kernel's fs.protected_symlinks would refuse it;
 * - a character device (/dev/null, a terminal) or a FIFO: opened and written directly, never
 *   replaced; a FIFO without a reader is waited for (with a note on stderr);
 * - a socket: connected to and written (stream sockets), never replaced;
 * - a folder or a block device: refused.
 *
 * Temporary files are tracked: they are removed on exit, on a fatal error and, while an
 * asynchronous write runs, on SIGINT/SIGTERM/SIGHUP (then exit 130/143/129).
 */

export type OutputKind = 'file' | 'new' | 'char-device' | 'fifo' | 'socket';

export interface OutputTarget {
  /** The path as the user gave it (for messages). */
  readonly path: string;
  readonly kind: OutputKind;
  /**
   * file/new: the absolute path that is replaced or created (symlinks followed);
   * char-device/fifo/socket: the path that is opened (the kernel follows links itself).
   */
  readonly target: string;
  /** The given path was a symlink (or a chain of them). */
  readonly viaSymlink: boolean;
  /** Identity of the existing file (undefined for a new path). */
  readonly dev?: number;
  readonly ino?: number;
}

/** What can be written: one string or bytes, or chunks written as they come (never joined). */
export type OutputContent = string | Uint8Array | Iterable<string | Uint8Array>;

/** Write in batches of about this many bytes (chunks are gathered up to it). */
const BATCH = 1 << 20;

function fail(path: string, why: string): never {
  throw new UsageError(`cannot write '${path}': ${why}`);
}

// ---- what a path is ----

/**
 * What writing `path` would do, checked now: throws a UsageError (one line) for a folder, a
 * block device, a missing parent folder, a symlink loop or a protected symlink.
 */
export function resolveOutputTarget(path: string): OutputTarget {
  if (path === '') fail(path, 'the path is empty');
  const abs = resolve(path);
  const walk = walkLinks(path, abs);
  let st: Stats | undefined;
  try {
    st = statSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') fail(path, `'${dirname(walk.final)}' is not a folder`);
    if (code !== 'ENOENT') fail(path, describeErrno(err));
  }
  if (st === undefined) {
    // 'out/' names a folder; resolve() would quietly make it the file 'out'.
    if (/\/\.?$/.test(path)) fail(path, 'it names a folder, and no such folder exists');
    checkFolder(path, dirname(walk.final));
    return { path, kind: 'new', target: walk.final, viaSymlink: walk.viaSymlink };
  }
  const identity = { dev: st.dev, ino: st.ino };
  if (st.isDirectory()) fail(path, 'it is a folder');
  if (st.isBlockDevice()) fail(path, 'it is a block device; refusing to write over it');
  if (st.isFile()) {
    let target: string;
    try {
      target = realpathSync.native(abs);
    } catch (err) {
      fail(path, describeErrno(err));
    }
    return { path, kind: 'file', target, viaSymlink: walk.viaSymlink, ...identity };
  }
  const kind: OutputKind | undefined = st.isCharacterDevice()
    ? 'char-device'
    : st.isFIFO()
      ? 'fifo'
      : st.isSocket()
        ? 'socket'
        : undefined;
  if (kind === undefined) fail(path, 'it is not a file, a device, a FIFO or a socket');
  return { path, kind, target: abs, viaSymlink: walk.viaSymlink, ...identity };
}

/** Follow the last component's symlinks by hand: where a new file would be created, and whether it is safe to. */
function walkLinks(path: string, abs: string): { final: string; viaSymlink: boolean } {
  let current = abs;
  let viaSymlink = false;
  for (let hops = 0; hops <= 40; hops++) {
    let l: Stats;
    try {
      l = lstatSync(current);
    } catch {
      return { final: current, viaSymlink };
    }
    if (!l.isSymbolicLink()) return { final: current, viaSymlink };
    checkProtectedSymlink(path, current, l);
    viaSymlink = true;
    let link: string;
    try {
      link = readlinkSync(current);
    } catch {
      return { final: current, viaSymlink };
    }
    // Relative to the folder the link is really in ('..' after a symlinked folder).
    let base = dirname(current);
    try {
      base = realpathSync.native(base);
    } catch {
      // keep it as written
    }
    current = resolve(base, link);
  }
  fail(path, 'too many levels of symbolic links');
}

/**
 * fs.protected_symlinks: in a sticky world-writable folder, follow a symlink only when we own it
 * or the folder's owner does. Else someone could point our root-owned write at /etc/shadow.
 */
function checkProtectedSymlink(path: string, link: string, l: Stats): void {
  let dir: Stats;
  try {
    dir = statSync(dirname(link));
  } catch {
    return;
  }
  const sticky = (dir.mode & 0o1000) !== 0 && (dir.mode & 0o002) !== 0;
  const euid = process.geteuid?.() ?? -1;
  if (sticky && l.uid !== euid && l.uid !== dir.uid) {
    fail(
      path,
      `refusing to follow symlink '${link}' owned by uid ${l.uid} in the shared folder '${dirname(link)}'`,
    );
  }
}

function checkFolder(path: string, dir: string): void {
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail(path, `folder '${dir}' does not exist`);
    if (code === 'ENOTDIR') fail(path, `'${dir}' is not a folder`);
    fail(path, describeErrno(err));
  }
  if (!st.isDirectory()) fail(path, `'${dir}' is not a folder`);
}

/**
 * Check, before a long run, that the target can be written: for a file, that a temporary file
 * can be created in its folder (and is removed again); for a device, FIFO or socket, access(W_OK)
 * (it is not opened: opening a FIFO would need its reader, some devices act on open).
 */
export function checkOutputWritable(t: OutputTarget): void {
  if (t.kind === 'file' || t.kind === 'new') {
    const { fd, tmp } = createTemporary(t);
    closeSync(fd);
    removeTemporary(tmp);
    return;
  }
  try {
    accessSync(t.target, constants.W_OK);
  } catch (err) {
    fail(t.path, describeErrno(err));
  }
}

// ---- temporary files ----

const temporaries = new Set<string>();

/** Remove every temporary file this process still has (on exit, on a signal, on a fatal error). */
export function removeTemporaries(): void {
  for (const tmp of temporaries) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
  temporaries.clear();
}

process.on('exit', removeTemporaries);

/** The temporary files that exist now (for tests). */
export function pendingTemporaries(): string[] {
  return [...temporaries];
}

function removeTemporary(tmp: string): void {
  try {
    unlinkSync(tmp);
  } catch {
    // already gone
  }
  temporaries.delete(tmp);
}

/** `.<name>.<pid>.<random>.tmp` beside the target, created exclusively (never through a planted link). */
// Every command starts by loading this module: node:crypto, node:net and node:timers/promises
// cost milliseconds to load, so they are reached only when a file or socket is written
// (the Web Crypto global loads its module on first use).
function randomHex(bytes: number): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

const delay = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));
const nextTurn = () => new Promise<void>((ok) => setImmediate(ok));

function createTemporary(t: OutputTarget): { fd: number; tmp: string } {
  const dir = dirname(t.target);
  const tmp = join(dir, `.${basename(t.target).slice(0, 120)}.${process.pid}.${randomHex(4)}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o666);
  } catch (err) {
    // An existing file is replaced through a temporary file beside it: say so, or a file that
    // is there (in /proc, say) would be reported as 'no such file or directory'.
    fail(
      t.path,
      t.kind === 'file'
        ? `a temporary file to replace it cannot be created in '${dir}' (${describeErrno(err)})`
        : describeErrno(err),
    );
  }
  temporaries.add(tmp);
  return { fd, tmp };
}

/** Remove temporary files and exit now with `code` (also what a closed stdout does: 141). */
export function exitNow(code: number): never {
  removeTemporaries();
  process.exit(code);
}

// ---- signals ----

let guards = 0;
const SIGNAL_EXIT: Record<string, number> = { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm, SIGHUP: 129 };
const onSignal = (signal: NodeJS.Signals): void => exitNow(SIGNAL_EXIT[signal] ?? 128);

/**
 * While an asynchronous write runs, SIGINT/SIGTERM/SIGHUP remove the temporary files and exit
 * 130/143/129. Installed only then: a listener would otherwise delay Ctrl-C until a long
 * synchronous simulation ends. Returns the function that uninstalls it.
 */
export function guardSignals(): () => void {
  if (guards++ === 0) for (const s of Object.keys(SIGNAL_EXIT)) process.on(s, onSignal);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    // One more turn of the event loop first, so a signal that came during the last
    // synchronous step is still handled (as an interruption) rather than dropped.
    setImmediate(() => {
      if (--guards === 0) for (const s of Object.keys(SIGNAL_EXIT)) process.off(s, onSignal);
    });
  };
}

// ---- writing ----

/** A step of a write: 0 = let the event loop run (signals), n > 0 = wait n ms (a full pipe, no reader yet). */
type Pause = number;

function* batches(content: OutputContent): Generator<Uint8Array, void, undefined> {
  if (typeof content === 'string') {
    for (let i = 0; i < content.length; ) {
      let end = Math.min(content.length, i + BATCH);
      if (end < content.length && isHighSurrogate(content.charCodeAt(end - 1))) end--;
      yield Buffer.from(content.slice(i, end));
      i = end;
    }
    return;
  }
  if (content instanceof Uint8Array) {
    yield content;
    return;
  }
  let parts: string[] = [];
  let size = 0;
  for (const chunk of content) {
    if (typeof chunk !== 'string') {
      if (parts.length) yield Buffer.from(parts.join(''));
      parts = [];
      size = 0;
      yield chunk;
      continue;
    }
    parts.push(chunk);
    size += chunk.length;
    if (size >= BATCH) {
      let text = parts.join('');
      // A pair split across two chunks must not be encoded as two halves.
      let carry = '';
      if (isHighSurrogate(text.charCodeAt(text.length - 1))) {
        carry = text.slice(-1);
        text = text.slice(0, -1);
      }
      yield Buffer.from(text);
      parts = carry ? [carry] : [];
      size = carry.length;
    }
  }
  if (parts.length) yield Buffer.from(parts.join(''));
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

function* writeSteps(
  t: OutputTarget,
  content: OutputContent,
  note: (text: string) => void,
): Generator<Pause, void, undefined> {
  if (t.kind === 'file' || t.kind === 'new') {
    yield* writeFileSteps(t, content);
    return;
  }
  if (t.kind === 'socket') fail(t.path, 'it is a socket (written only by planOutputs().write)');
  yield* writeDeviceSteps(t, content, note);
}

function* writeFileSteps(t: OutputTarget, content: OutputContent): Generator<Pause, void, undefined> {
  let replaced: Stats | undefined;
  try {
    replaced = statSync(t.target);
  } catch {
    replaced = undefined;
  }
  if (replaced && !replaced.isFile()) fail(t.path, 'it is no longer a regular file');
  const { fd, tmp } = createTemporary(t);
  let open = true;
  try {
    if (replaced) {
      if (process.geteuid?.() === 0) {
        try {
          fchownSync(fd, replaced.uid, replaced.gid);
        } catch {
          // keep root's ownership
        }
      }
      fchmodSync(fd, replaced.mode & 0o777);
    }
    for (const buf of batches(content)) {
      writeAll(fd, buf);
      yield 0;
    }
    fsyncSync(fd);
    open = false;
    closeSync(fd);
    renameSync(tmp, t.target);
    temporaries.delete(tmp);
  } catch (err) {
    if (open) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
    removeTemporary(tmp);
    throw err;
  }
}

function* writeDeviceSteps(
  t: OutputTarget,
  content: OutputContent,
  note: (text: string) => void,
): Generator<Pause, void, undefined> {
  // O_NONBLOCK: a FIFO without a reader fails with ENXIO instead of blocking the process (we
  // wait in steps, so Ctrl-C works); no O_CREAT and no O_TRUNC: a device is never replaced.
  const flags = constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
  let fd: number | undefined;
  let waited = false;
  while (fd === undefined) {
    try {
      fd = openSync(t.target, flags);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO' || t.kind !== 'fifo') throw err;
      if (!waited) note(`ucode-staging: waiting for a reader of the FIFO '${t.path}'\n`);
      waited = true;
      yield 50;
    }
  }
  try {
    const st = fstatSync(fd);
    if (st.isFile() || st.isDirectory())
      fail(t.path, 'it changed into a file or folder since it was checked');
    for (const buf of batches(content)) {
      let off = 0;
      while (off < buf.length) {
        try {
          off += writeSync(fd, buf, off, buf.length - off);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          yield 2;
        }
      }
      yield 0;
    }
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, buf: Uint8Array): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** System errors become one-line usage errors naming the path; anything else (a bug) passes through. */
function wrap(t: OutputTarget, err: unknown): unknown {
  if (err instanceof UsageError) return err;
  if (isErrnoError(err)) return new UsageError(`cannot write '${t.path}': ${describeErrno(err)}`);
  return err;
}

const stderrNote = (text: string): void => {
  try {
    writeSync(2, text);
  } catch {
    // nowhere to say it
  }
};

/** Write `content` to `t`, blocking (a FIFO's reader is waited for). Not for sockets. */
export function writeOutputSync(t: OutputTarget, content: OutputContent, note = stderrNote): void {
  try {
    for (const pause of writeSteps(t, content, note)) if (pause > 0) sleepSync(pause);
  } catch (err) {
    throw wrap(t, err);
  }
}

/**
 * Write `content` to `t`, letting the event loop run between batches: Ctrl-C during the write
 * removes the temporary file and exits 130 (SIGTERM 143).
 */
export async function writeOutput(t: OutputTarget, content: OutputContent, note = stderrNote): Promise<void> {
  const release = guardSignals();
  try {
    if (t.kind === 'socket') await writeSocket(t, content);
    else for (const pause of writeSteps(t, content, note)) await (pause > 0 ? delay(pause) : nextTurn());
  } catch (err) {
    throw wrap(t, err);
  } finally {
    release();
  }
}

async function writeSocket(t: OutputTarget, content: OutputContent): Promise<void> {
  const { createConnection } = await import('node:net');
  const socket = createConnection({ path: t.target });
  let failure: unknown;
  socket.on('error', (err) => {
    failure ??= err;
  });
  try {
    await new Promise<void>((ok, ko) => {
      socket.once('connect', ok);
      socket.once('error', ko);
    });
    for (const buf of batches(content)) {
      if (failure) throw failure;
      if (!socket.write(buf)) {
        await new Promise<void>((ok, ko) => {
          socket.once('drain', ok);
          socket.once('error', ko);
          socket.once('close', () => ko(failure ?? new Error('the socket closed')));
        });
      }
    }
    await new Promise<void>((ok, ko) => {
      socket.end(() => (failure ? ko(failure) : ok()));
      socket.once('error', ko);
    });
  } finally {
    socket.destroy();
  }
}

/**
 * Compatibility: write `path` by the rules above, synchronously (regular files atomically,
 * devices and FIFOs directly). Commands move to `planOutputs()` in output-plan.ts, which checks
 * every output before the run and handles '-' and Ctrl-C.
 */
export function writeFileAtomic(path: string, content: OutputContent): void {
  writeOutputSync(resolveOutputTarget(path), content);
}

// ---- standard output and error ----

/**
 * A writer for fd 1 or 2, synchronous (errors are known at the write, never as a late
 * 'error' event). stdout: EPIPE (the reader went away: `| head -1`) exits 141 quietly, as if
 * killed by SIGPIPE; any other error (ENOSPC on /dev/full) throws a one-line UsageError
 * (exit 2) and later writes are dropped. stderr: errors are ignored (nowhere to report them).
 */
export function stdioWriter(
  fd: 1 | 2,
  onClosed: () => void = () => exitNow(EXIT.sigpipe),
): (text: string) => void {
  let broken = false;
  return (text: string): void => {
    if (broken || text.length === 0) return;
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) {
      try {
        off += writeSync(fd, buf, off, buf.length - off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          sleepSync(1);
          continue;
        }
        broken = true;
        if (fd === 2) return;
        if (code === 'EPIPE') {
          onClosed();
          return;
        }
        throw new UsageError(`cannot write standard output: ${describeErrno(err)}`);
      }
    }
  };
}
