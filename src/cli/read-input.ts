import { closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';
import { describeErrno, UsageError } from './io.js';

/** A machine file (JSON/YAML) is read only up to this size. */
export const MACHINE_FILE_MAX_BYTES = 1 << 20; // 1 MiB
/** A microcode file (one firmware file, or each file `inspect` reads) is read only up to this size. */
export const MICROCODE_FILE_MAX_BYTES = 64 << 20; // 64 MiB

/** An input that cannot be read; `code` is the system error's (ENOENT, ...) when there was one. */
export class InputFileError extends UsageError {
  override name = 'InputFileError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface ReadInputOptions {
  /** What the file is, for messages: 'firmware file', 'machine file', 'microcode file'. */
  what: string;
  /** Refuse a file larger than this. */
  maxBytes: number;
  /**
   * Read into this buffer's memory when the file fits (the bytes returned are then only
   * valid until the next read into it): many files read one after another reuse memory
   * already paged in instead of allocating and first-touching a buffer each.
   */
  scratch?: ScratchBuffer;
  /**
   * The caller found the path to be a regular file just before (inspect's folder walk):
   * the check before opening is skipped. The one after opening (fstat) still refuses
   * anything else, as it refuses a file swapped after the first check.
   */
  knownRegularFile?: boolean;
}

/** The least a scratch buffer grows to. */
const SCRATCH_MIN_BYTES = 4 << 20;

/** A buffer reused across reads (see ReadInputOptions.scratch); it grows to the largest file. */
export class ScratchBuffer {
  buffer: Buffer = Buffer.allocUnsafe(0);
}

/** 'a FIFO (named pipe)', 'a character device', ... for a file that is not a regular file. */
export function describeFileType(
  st: Pick<
    Stats,
    | 'isFile'
    | 'isDirectory'
    | 'isFIFO'
    | 'isCharacterDevice'
    | 'isBlockDevice'
    | 'isSocket'
    | 'isSymbolicLink'
  >,
): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export function formatSize(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(1)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

/**
 * Read an input file with bounds, synchronously: anything that is not a regular file (a FIFO,
 * /dev/zero, /dev/urandom, a socket, a folder) is refused before it is opened, without
 * blocking; the size is checked with fstat on the opened descriptor, and at most maxBytes + 1
 * bytes are ever read (a file that grows past the cap while being read is refused too).
 * Errors are one-line UsageErrors: `cannot read <what> '<path>': <why>`.
 */
export function readInputFile(path: string, opts: ReadInputOptions): Uint8Array {
  const fail = (why: string, err?: unknown): never => {
    throw new InputFileError(
      `cannot read ${opts.what} '${path}': ${why}`,
      (err as NodeJS.ErrnoException | undefined)?.code,
    );
  };
  if (opts.knownRegularFile !== true) {
    let st: Stats;
    try {
      st = statSync(path);
    } catch (err) {
      return fail(describeErrno(err), err);
    }
    if (!st.isFile()) fail(`it is ${describeFileType(st)}, not a regular file`);
    if (st.size > opts.maxBytes) fail(tooLarge(st.size, opts));
  }
  let fd: number;
  try {
    // O_NONBLOCK: if the path was swapped for a FIFO since the stat, open must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    return fail(describeErrno(err), err);
  }
  try {
    const fst = fstatSync(fd);
    if (!fst.isFile()) fail(`it is ${describeFileType(fst)}, not a regular file`);
    if (fst.size > opts.maxBytes) fail(tooLarge(fst.size, opts));
    const limit = opts.maxBytes + 1;
    // A file may be longer than fstat says (/proc, a file being appended to): grow, up to the cap.
    const wanted = Math.min(limit, Math.max(fst.size + 1, 4096));
    const scratch = opts.scratch;
    // Grown to a few MiB at once: Intel's files reach 3.2 MiB, and memory that is
    // allocated but never written costs nothing (its pages come on first touch),
    // while growing file by file first-touched 6 MiB of buffers for 3.2 MiB of file.
    if (scratch && scratch.buffer.length < wanted)
      scratch.buffer = Buffer.allocUnsafe(Math.min(limit, Math.max(wanted, SCRATCH_MIN_BYTES)));
    let buf = scratch ? scratch.buffer : Buffer.allocUnsafe(wanted);
    let length = 0;
    for (;;) {
      if (length === buf.length) {
        if (buf.length >= limit) break;
        const bigger = Buffer.allocUnsafe(Math.min(limit, buf.length * 2));
        buf.copy(bigger, 0, 0, length);
        buf = bigger;
        if (scratch) scratch.buffer = bigger;
      }
      let n: number;
      try {
        n = readSync(fd, buf, length, buf.length - length, null);
      } catch (err) {
        return fail(describeErrno(err), err);
      }
      if (n === 0) break;
      length += n;
      // What fstat promised has arrived: one more read would only find the end. A size
      // of 0 (/proc) or a short read (sysfs) still reads on until read() says the end.
      if (length === fst.size) break;
    }
    if (length > opts.maxBytes) fail(`it grew past ${formatSize(opts.maxBytes)} while being read`);
    return new Uint8Array(buf.buffer, buf.byteOffset, length);
  } finally {
    closeSync(fd);
  }
}

/** `readInputFile` decoded as UTF-8 (a byte-order mark is dropped). */
export function readInputText(path: string, opts: ReadInputOptions): string {
  return new TextDecoder('utf-8').decode(readInputFile(path, opts));
}

/** A machine file (JSON/YAML) as text: a regular file of at most 1 MiB. */
export function readMachineFile(path: string): string {
  return readInputText(path, { what: 'machine file', maxBytes: MACHINE_FILE_MAX_BYTES });
}

/** One microcode file (`-f FILE`, a file in a firmware folder): a regular file of at most 64 MiB. */
export function readMicrocodeFile(path: string, what = 'firmware file'): Uint8Array {
  return readInputFile(path, { what, maxBytes: MICROCODE_FILE_MAX_BYTES });
}

function tooLarge(size: number, opts: ReadInputOptions): string {
  return `it is ${formatSize(size)} (${size} bytes), over the ${formatSize(opts.maxBytes)} limit for a ${opts.what}`;
}
