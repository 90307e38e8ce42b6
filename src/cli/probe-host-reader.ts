import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  type Stats,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, posix, resolve, sep } from 'node:path';
import type { HostEntry, HostFiles, HostReader, ReadRequest } from '../index.js';
import { zlib } from './builtins.js';
import { describeErrno, UsageError } from './io.js';

/** The character device major of /dev/cpu/N/msr (Linux's msr driver). */
const MSR_MAJOR = 202;
const FIRMWARE_FOLDER = '/lib/firmware/intel-ucode/';

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

function failure(err: unknown): HostEntry {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
  return { kind: 'unreadable', reason: describeErrno(err) };
}

/**
 * The host's files, read-only, under `root` ('/' for the live host). Every open is O_RDONLY
 * (nothing on the host is ever opened for writing); a path must be a regular file, except
 * /dev/cpu/N/msr, which may be the msr driver's character device (only 8 bytes per register are
 * read, with pread) or, in a saved tree, a regular file of the same layout. With `firmwareDir`,
 * /lib/firmware/intel-ucode/<name> is read from that folder instead.
 */
export class FsHostReader implements HostReader {
  private readonly realRoot: string | null;

  constructor(
    readonly root: string,
    readonly firmwareDir?: string,
  ) {
    // A saved tree may hold symlinks (absolute ones point at the machine replaying it): those
    // are followed only while they stay inside the tree.
    this.realRoot = resolve(root) === '/' ? null : realpathSync(root);
  }

  /** The file system path of a host path, or null when it leaves the root. */
  private real(path: string): string | null {
    const normal = posix.normalize(path);
    if (!normal.startsWith('/')) return null;
    if (this.firmwareDir !== undefined && normal.startsWith(FIRMWARE_FOLDER))
      return join(this.firmwareDir, normal.slice(FIRMWARE_FOLDER.length));
    const real = join(this.root, normal);
    if (this.realRoot === null) return real;
    let target: string;
    try {
      target = realpathSync(real);
    } catch {
      return real; // missing: the stat that follows says so
    }
    return target === this.realRoot || target.startsWith(this.realRoot + sep) ? real : null;
  }

  readFile(path: string, request: ReadRequest): HostEntry {
    const real = this.real(path);
    if (real === null) return { kind: 'unreadable', reason: 'the path leaves the root' };
    try {
      const st = statSync(real);
      // Checked before opening: opening a FIFO blocks, opening a device can act.
      if (!st.isFile()) return { kind: 'unreadable', reason: fileKind(st) };
      const bytes = readBounded(real, request.maxBytes);
      if (bytes === null) return { kind: 'unreadable', reason: `larger than ${request.maxBytes} bytes` };
      if (!request.gunzip) return { kind: 'file', bytes };
      return gunzipped(bytes, request.maxBytes);
    } catch (err) {
      return failure(err);
    }
  }

  stat(path: string): HostEntry {
    const real = this.real(path);
    if (real === null) return { kind: 'unreadable', reason: 'the path leaves the root' };
    try {
      statSync(real);
      return { kind: 'present' };
    } catch (err) {
      return failure(err);
    }
  }

  readMsrs(cpu: number, registers: readonly number[]): HostEntry {
    const real = this.real(`/dev/cpu/${cpu}/msr`);
    if (real === null) return { kind: 'unreadable', reason: 'the path leaves the root' };
    let fd: number;
    try {
      const st = statSync(real);
      const msrDevice = st.isCharacterDevice() && Math.floor(st.rdev / 256) % 4096 === MSR_MAJOR;
      if (!st.isFile() && !msrDevice)
        return { kind: 'unreadable', reason: `${fileKind(st)}, not the msr device` };
      fd = openSync(real, constants.O_RDONLY | constants.O_NOCTTY);
    } catch (err) {
      return failure(err);
    }
    try {
      const out = new Map<number, bigint | string>();
      for (const register of registers) out.set(register, readRegister(fd, register));
      return { kind: 'msr', registers: out };
    } finally {
      closeSync(fd);
    }
  }
}

/** pread of the 8 bytes at offset `register`: the msr driver's RDMSR. */
function readRegister(fd: number, register: number): bigint | string {
  const buf = Buffer.alloc(8);
  try {
    const n = readSync(fd, buf, 0, 8, register);
    // The driver answers EIO for an MSR the CPU does not have; a saved file ends before it.
    if (n < 8) return 'input/output error (the MSR does not exist)';
    return buf.readBigUInt64LE(0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EIO' ? 'input/output error (the MSR does not exist)' : describeErrno(err);
  }
}

/** The whole file, or null when it holds more than `max` bytes (/proc files report size 0: read to EOF). */
function readBounded(path: string, max: number): Uint8Array | null {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EINVAL' });
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(1 << 20, max + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > max) return null;
    }
    return new Uint8Array(Buffer.concat(chunks, total));
  } finally {
    closeSync(fd);
  }
}

function gunzipped(bytes: Uint8Array, max: number): HostEntry {
  try {
    const text = zlib().gunzipSync(bytes, { maxOutputLength: max }).toString('utf8');
    return { kind: 'file', bytes, text };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      kind: 'unreadable',
      reason: code === 'ERR_BUFFER_TOO_LARGE' ? `decompresses to more than ${max} bytes` : 'not gzip data',
    };
  }
}

/** Refuse a --root that is not a folder we can list. */
export function checkRoot(root: string): void {
  let st: Stats;
  try {
    st = statSync(root);
  } catch (err) {
    throw new UsageError(`cannot read root '${root}': ${describeErrno(err)}`);
  }
  if (!st.isDirectory()) throw new UsageError(`root '${root}' is not a folder`);
  try {
    readdirSync(root);
  } catch (err) {
    throw new UsageError(`cannot read root '${root}': ${describeErrno(err)}`);
  }
}

/**
 * Copy what was read into `dir` in the host's layout, so `probe --root dir` reads the same:
 * files as they were, the reload file as an empty file, an MSR device as a regular file holding
 * each register read at its offset. Missing and unreadable paths are left out. `dir` must not
 * exist or be empty; nothing is overwritten.
 */
export function saveHostFiles(files: HostFiles, dir: string): number {
  const target = resolve(dir);
  if (/^\/(proc|sys|dev)(\/|$)/.test(target) || target === '/')
    throw new UsageError(`refusing to save into '${dir}': choose a folder outside /, /proc, /sys and /dev`);
  let existing: string[] = [];
  try {
    existing = readdirSync(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new UsageError(`cannot save into '${dir}': ${describeErrno(err)}`);
  }
  if (existing.length > 0) throw new UsageError(`cannot save into '${dir}': the folder is not empty`);
  let written = 0;
  for (const [path, entry] of files) {
    const content = savedContent(entry);
    if (content === null) continue;
    const out = join(target, posix.normalize(path));
    if (!out.startsWith(target + sep)) continue;
    try {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, content, { flag: 'wx', mode: 0o644 });
    } catch (err) {
      throw new UsageError(`cannot save '${out}': ${describeErrno(err)}`);
    }
    written++;
  }
  return written;
}

function savedContent(entry: HostEntry): Uint8Array | null {
  switch (entry.kind) {
    case 'file':
      return entry.bytes;
    case 'present':
      return new Uint8Array(0);
    case 'msr': {
      const values = [...entry.registers].filter((e): e is [number, bigint] => typeof e[1] === 'bigint');
      if (values.length === 0) return null;
      const buf = Buffer.alloc(Math.max(...values.map(([r]) => r)) + 8);
      for (const [r, v] of values) buf.writeBigUInt64LE(v, r);
      return buf;
    }
    default:
      return null;
  }
}
