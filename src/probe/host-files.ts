/**
 * What `probe` read from a host, as data: every path it asked for and what it got. The
 * analysis works only on this (no file system here), so a browser, a test or a saved host
 * (`probe --save`) can be probed exactly like the live one.
 *
 * Paths are the host's own absolute paths ('/proc/cpuinfo'), whatever root they were read
 * under. An MSR device is one entry holding the registers that were read from it.
 */

/** The outcome of reading one path. */
export type HostEntry =
  /** A regular file's bytes (at most the reader's cap); `text` is its decoded form when the reader decoded it (gunzip). */
  | { kind: 'file'; bytes: Uint8Array; text?: string }
  /** The path exists (checked without opening it: the reload file is write-only). */
  | { kind: 'present' }
  | { kind: 'missing' }
  /** There but not usable: permission, a FIFO or device where a file belongs, too large, a read error. */
  | { kind: 'unreadable'; reason: string }
  /** /dev/cpu/N/msr: each register read, as its 64-bit value or why it could not be read. */
  | { kind: 'msr'; registers: Map<number, bigint | string> };

export type HostFiles = Map<string, HostEntry>;

/** What the reader is asked to do for one file. */
export interface ReadRequest {
  /** Read at most this many bytes; a longer file is unreadable ("larger than ..."). */
  maxBytes: number;
  /** The file is gzip data: return its decompressed text too (/proc/config.gz). */
  gunzip?: boolean;
}

/**
 * The file system side: the CLI reads the real host (or a saved tree), tests hand in memory.
 * A reader never throws and never writes; whatever goes wrong is an entry's `reason`.
 */
export interface HostReader {
  readFile(path: string, request: ReadRequest): HostEntry;
  /** `present`, `missing` or `unreadable`; never opens the path. */
  stat(path: string): HostEntry;
  /** Read 8 bytes at offset `msr` of /dev/cpu/<cpu>/msr for each register; an `msr` entry, or why the device could not be opened. */
  readMsrs(cpu: number, registers: readonly number[]): HostEntry;
}

export const MAX_TEXT_FILE_BYTES = 4 * 1024 * 1024;
/** The same cap `inspect` uses: Intel's largest files are a few MB. */
export const MAX_FIRMWARE_FILE_BYTES = 64 * 1024 * 1024;

export const CPU_SYSFS = '/sys/devices/system/cpu';

export function msrDevicePath(cpu: number): string {
  return `/dev/cpu/${cpu}/msr`;
}

/** The text of a file entry (UTF-8, invalid bytes replaced), or undefined for anything else. */
export function entryText(entry: HostEntry | undefined): string | undefined {
  if (entry?.kind !== 'file') return undefined;
  return entry.text ?? new TextDecoder('utf-8', { fatal: false }).decode(entry.bytes);
}

/** Why an entry has no usable content, in a few words ("missing", "unreadable: permission denied"). */
export function entryProblem(entry: HostEntry | undefined): string {
  if (entry === undefined) return 'not read';
  switch (entry.kind) {
    case 'missing':
      return 'missing';
    case 'unreadable':
      return `unreadable (${entry.reason})`;
    default:
      return 'present';
  }
}

/**
 * A reader over files held in memory (tests, a browser): paths map to text, bytes, or an
 * `unreadable` marker; an MSR device maps to its registers. Anything absent is missing.
 */
export class MemoryHostReader implements HostReader {
  constructor(private readonly entries: ReadonlyMap<string, HostEntry>) {}

  static of(files: Record<string, string | Uint8Array | HostEntry>): MemoryHostReader {
    const map = new Map<string, HostEntry>();
    for (const [path, value] of Object.entries(files)) {
      if (typeof value === 'string') map.set(path, { kind: 'file', bytes: new TextEncoder().encode(value) });
      else if (value instanceof Uint8Array) map.set(path, { kind: 'file', bytes: value });
      else map.set(path, value);
    }
    return new MemoryHostReader(map);
  }

  readFile(path: string, request: ReadRequest): HostEntry {
    const entry = this.entries.get(path);
    if (entry === undefined) return { kind: 'missing' };
    if (entry.kind === 'file' && entry.bytes.length > request.maxBytes)
      return { kind: 'unreadable', reason: `larger than ${request.maxBytes} bytes` };
    if (entry.kind === 'present') return { kind: 'unreadable', reason: 'not a regular file' };
    if (entry.kind === 'msr') return { kind: 'unreadable', reason: 'a device, not a regular file' };
    return entry;
  }

  stat(path: string): HostEntry {
    const entry = this.entries.get(path);
    if (entry === undefined) return { kind: 'missing' };
    if (entry.kind === 'unreadable') return entry;
    return { kind: 'present' };
  }

  readMsrs(cpu: number, registers: readonly number[]): HostEntry {
    const entry = this.entries.get(msrDevicePath(cpu));
    if (entry === undefined) return { kind: 'missing' };
    if (entry.kind !== 'msr')
      return entry.kind === 'unreadable' ? entry : { kind: 'unreadable', reason: 'not an MSR device' };
    const out = new Map<number, bigint | string>();
    for (const r of registers)
      out.set(r, entry.registers.get(r) ?? 'input/output error (the MSR does not exist)');
    return { kind: 'msr', registers: out };
  }
}

/** Records every answer of a reader into a HostFiles map (MSR reads of one CPU are merged). */
export class RecordingReader implements HostReader {
  readonly files: HostFiles = new Map();

  constructor(private readonly inner: HostReader) {}

  readFile(path: string, request: ReadRequest): HostEntry {
    const entry = this.inner.readFile(path, request);
    this.files.set(path, entry);
    return entry;
  }

  stat(path: string): HostEntry {
    const entry = this.inner.stat(path);
    this.files.set(path, entry);
    return entry;
  }

  readMsrs(cpu: number, registers: readonly number[]): HostEntry {
    const entry = this.inner.readMsrs(cpu, registers);
    const path = msrDevicePath(cpu);
    const before = this.files.get(path);
    if (entry.kind === 'msr' && before?.kind === 'msr') {
      for (const [r, v] of entry.registers) before.registers.set(r, v);
      return entry;
    }
    this.files.set(path, entry.kind === 'msr' ? { kind: 'msr', registers: new Map(entry.registers) } : entry);
    return entry;
  }
}
