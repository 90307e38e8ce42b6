// An independent reading of the kernel's microcode file checks, sharing no code
// with src/format. It follows Linux's own arithmetic, not the model's: the walk in
// parse_microcode_blobs() (unsigned int sizes), intel_microcode_sanity_check()
// (the data size read through an int and widened to unsigned long, exttable_size()
// returned as an unsigned int, u32 checksums), and the late-load selection. Where
// the project deliberately refuses more than the kernel (docs/format.md,
// "Where we refuse more than the kernel"), `projectVerdict()` says so in one place;
// the fuzzers compare src/format with that projection. Its checksum
// recomputation is the oracle for "never an accepted bad checksum".

export type OracleErrorKind =
  | 'truncated-header'
  | 'totalsize-too-small'
  | 'truncated-file'
  | 'bad-size'
  | 'bad-header-version'
  | 'ext-table-truncated'
  | 'ext-table-size-mismatch'
  | 'ext-table-checksum'
  | 'data-checksum'
  | 'ext-signature-checksum';

/**
 * What the kernel does with a file: an error kind, or `reads-past-blob` when its
 * extended-signature loop goes past the end of its copy of the blob (a count whose
 * size wrapped 32 bits); its verdict then depends on memory we cannot know.
 */
export type KernelErrorKind = OracleErrorKind | 'reads-past-blob';

export interface OracleBlob {
  offset: number;
  totalSize: number;
  /**
   * The data size as the kernel computes it: negative for fields 0xffffffd0 and up
   * (-48..-1), where `48 + data size` wrapped to 0..47.
   */
  dataSize: number;
  revision: number;
  signature: number;
  processorFlags: number;
  minRequiredRevision: number;
  ext: { signature: number; processorFlags: number; checksum: number }[];
}

export interface OracleError<K extends string> {
  kind: K;
  offset: number;
  /** The kernel's data size when the blob reached the sanity check (see OracleBlob). */
  dataSize?: number;
}

export interface KernelScan {
  blobs: OracleBlob[];
  error?: OracleError<KernelErrorKind>;
}

export interface OracleScan {
  blobs: OracleBlob[];
  error?: OracleError<OracleErrorKind>;
  /** Why the project's verdict is not the kernel's, when it is not. */
  deviation?: 'negative-data-size' | 'reads-past-blob';
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** Sum mod 2^32 of the whole little-endian dwords in [at, at + length). */
export function dwordSum(bytes: Uint8Array, at: number, length: number): number {
  const count = Math.floor(length / 4);
  if (count === 0) return 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, count * 4);
  let sum = 0;
  for (let i = 0; i < count; i++) sum = (sum + view.getUint32(i * 4, true)) | 0;
  return sum >>> 0;
}

const U64 = 64;

/**
 * The bytes the sanity check counts as header + data: `MC_HEADER_SIZE + data_size`
 * in unsigned long, with data_size = (unsigned long)(int)field. Returns undefined
 * when that exceeds the total size (the "bad size" rule).
 */
function headerPlusData(dataField: number, total: number): number | undefined {
  const asInt = (dataField === 0 ? 2000 : dataField) | 0;
  const covered = BigInt.asUintN(U64, BigInt.asUintN(U64, BigInt(asInt)) + 48n);
  return covered > BigInt(total) ? undefined : Number(covered);
}

/** The kernel's walk over a whole file, every blob checked, the first failure rejecting the file. */
export function kernelScan(file: Uint8Array): KernelScan {
  const blobs: OracleBlob[] = [];
  let off = 0;
  while (off < file.length) {
    const fail = (kind: KernelErrorKind, dataSize?: number): KernelScan => ({
      blobs,
      error: dataSize === undefined ? { kind, offset: off } : { kind, offset: off, dataSize },
    });
    // parse_microcode_blobs(): the header copied out, then unsigned int sizes.
    if (file.length - off < 48) return fail('truncated-header');
    const headerVersion = u32(file, off);
    const signature = u32(file, off + 12);
    const checksum = u32(file, off + 16);
    const loaderVersion = u32(file, off + 20);
    const processorFlags = u32(file, off + 24);
    const dataField = u32(file, off + 28);
    const total = dataField === 0 ? 2048 : u32(file, off + 32);
    if (total < 48) return fail('totalsize-too-small');
    if (total - 48 > file.length - off - 48) return fail('truncated-file');

    // intel_microcode_sanity_check() on the blob's copy (total bytes from off).
    const covered = headerPlusData(dataField, total);
    if (covered === undefined) return fail('bad-size');
    const dataSize = covered - 48;
    if (loaderVersion !== 1 || headerVersion !== 1) return fail('bad-header-version', dataSize);
    const extSize = total - covered;
    const extAt = off + covered;
    let count = 0;
    if (extSize !== 0) {
      if (extSize < 20 || (extSize - 20) % 12 !== 0) return fail('ext-table-truncated', dataSize);
      count = u32(file, extAt);
      // exttable_size(): computed wide, returned as unsigned int.
      const declared = Number(BigInt.asUintN(32, BigInt(count) * 12n + 20n));
      if (declared !== extSize) return fail('ext-table-size-mismatch', dataSize);
      if (dwordSum(file, extAt, extSize) !== 0) return fail('ext-table-checksum', dataSize);
    }
    if (dwordSum(file, off, covered) !== 0) return fail('data-checksum', dataSize);
    const ext: OracleBlob['ext'] = [];
    const mainSum = (signature + processorFlags + checksum) >>> 0;
    const blobEnd = off + total;
    for (let i = 0; i < count; i++) {
      const e = extAt + 20 + i * 12;
      if (e + 12 > blobEnd) return fail('reads-past-blob', dataSize);
      const entry = { signature: u32(file, e), processorFlags: u32(file, e + 4), checksum: u32(file, e + 8) };
      if ((entry.signature + entry.processorFlags + entry.checksum) >>> 0 !== mainSum)
        return fail('ext-signature-checksum', dataSize);
      ext.push(entry);
    }
    blobs.push({
      offset: off,
      totalSize: total,
      dataSize,
      revision: u32(file, off + 4),
      signature,
      processorFlags,
      minRequiredRevision: u32(file, off + 40),
      ext,
    });
    off = blobEnd;
  }
  return { blobs };
}

/**
 * The verdict the project gives: the kernel's, except where docs/format.md says we
 * refuse more. (1) A data size field of 0xffffffd0 or more is `bad-size` as soon as
 * the walk hands the blob to the sanity check, whatever the kernel's later rules say
 * (it may even accept). (2) An extended-signature loop that would read past the
 * blob is `ext-signature-checksum`.
 */
export function projectVerdict(kernel: KernelScan): OracleScan {
  const negative = kernel.blobs.findIndex((b) => b.dataSize < 0);
  if (negative >= 0) {
    return {
      blobs: kernel.blobs.slice(0, negative),
      error: { kind: 'bad-size', offset: kernel.blobs[negative]!.offset },
      deviation: 'negative-data-size',
    };
  }
  const error = kernel.error;
  if (!error) return { blobs: kernel.blobs };
  if (error.dataSize !== undefined && error.dataSize < 0) {
    return {
      blobs: kernel.blobs,
      error: { kind: 'bad-size', offset: error.offset },
      deviation: 'negative-data-size',
    };
  }
  if (error.kind === 'reads-past-blob') {
    return {
      blobs: kernel.blobs,
      error: { kind: 'ext-signature-checksum', offset: error.offset },
      deviation: 'reads-past-blob',
    };
  }
  return { blobs: kernel.blobs, error: { kind: error.kind, offset: error.offset } };
}

/** The project's expected verdict for a whole file. */
export function oracleScan(file: Uint8Array): OracleScan {
  return projectVerdict(kernelScan(file));
}

/** The kernel's line for each rejection (late-load.md), without the "microcode: " prefix. */
export function oracleMessage(kind: OracleErrorKind, headerVersion: number): string {
  switch (kind) {
    case 'truncated-header':
      return 'error! Truncated or inaccessible header in microcode data file';
    case 'totalsize-too-small':
      return 'error! Bad data in microcode data file (totalsize too small)';
    case 'truncated-file':
      return 'error! Bad data in microcode data file (truncated file?)';
    case 'bad-size':
      return 'Error: bad microcode data file size.';
    case 'bad-header-version':
      // %d of an unsigned int field
      return `Error: invalid/unknown microcode update format. Header type ${headerVersion >= 0x8000_0000 ? headerVersion - 0x1_0000_0000 : headerVersion}`;
    case 'ext-table-truncated':
      return 'Error: truncated extended signature table.';
    case 'ext-table-size-mismatch':
      return 'Error: extended signature table size mismatch.';
    case 'ext-table-checksum':
      return 'Bad extended signature table checksum, aborting.';
    case 'data-checksum':
      return 'Bad microcode data checksum, aborting.';
    case 'ext-signature-checksum':
      return 'Bad extended signature checksum, aborting.';
  }
}

/** The message of a scan's rejection, read from the file. */
export function rejectionMessage(file: Uint8Array, scan: OracleScan): string | undefined {
  if (!scan.error) return undefined;
  const at = scan.error.offset;
  return oracleMessage(scan.error.kind, file.length - at >= 4 ? u32(file, at) : 0);
}

export interface OracleCpu {
  signature: number;
  platformFlags: number;
  revision: number;
}

export interface OracleSelection {
  outcome: 'new-safe' | 'new-unsafe' | 'not-found' | 'error';
  offset?: number;
  /** Lines logged, without the "microcode: " prefix, the rejecting check's last. */
  messages: string[];
}

const x = (n: number): string => `0x${(n >>> 0).toString(16)}`;

function signaturesMatch(cpu: OracleCpu, sig: number, pf: number): boolean {
  return (
    cpu.signature >>> 0 === sig && ((cpu.platformFlags === 0 && pf === 0) || (cpu.platformFlags & pf) !== 0)
  );
}

/**
 * The late-load selection over a file whose verdict `scan` gives: revisions
 * compared unsigned (an int against an unsigned int), the main signature then
 * each extended one, the min-rev rule against the running revision.
 */
export function oracleSelect(
  scan: OracleScan,
  cpu: OracleCpu,
  forceMinrev = false,
  rejection?: string,
): OracleSelection {
  const messages: string[] = [];
  let best: { offset: number; safe: boolean } | undefined;
  let current = cpu.revision >>> 0;
  const running = cpu.revision >>> 0;
  for (const b of scan.blobs) {
    if (current >= b.revision) continue;
    if (
      !signaturesMatch(cpu, b.signature, b.processorFlags) &&
      !b.ext.some((e) => signaturesMatch(cpu, e.signature, e.processorFlags))
    )
      continue;
    let safe = true;
    if (b.minRequiredRevision === 0) {
      messages.push('Unsafe microcode update: Microcode header does not specify a required min version');
      safe = false;
    } else if (running < b.minRequiredRevision) {
      messages.push(`Unsafe microcode update: Current revision ${x(running)} too old`);
      messages.push(`Current should be at ${x(b.minRequiredRevision)} or higher. Use early loading instead`);
      safe = false;
    }
    if (forceMinrev && !safe) continue;
    best = { offset: b.offset, safe };
    current = b.revision;
  }
  if (scan.error) return { outcome: 'error', messages: rejection ? [...messages, rejection] : messages };
  if (!best) return { outcome: 'not-found', messages };
  return { outcome: best.safe ? 'new-safe' : 'new-unsafe', offset: best.offset, messages };
}

/** Every checksum rule of one accepted blob, recomputed: the "no accepted bad checksum" oracle. */
export function checksumsHold(
  file: Uint8Array,
  offset: number,
  totalSize: number,
  dataSize: number,
): boolean {
  if (dwordSum(file, offset, 48 + dataSize) !== 0) return false;
  const extSize = totalSize - 48 - dataSize;
  if (extSize === 0) return true;
  const extAt = offset + 48 + dataSize;
  if (dwordSum(file, extAt, extSize) !== 0) return false;
  const mainSum = (u32(file, offset + 12) + u32(file, offset + 24) + u32(file, offset + 16)) >>> 0;
  const count = u32(file, extAt);
  if (20 + count * 12 > extSize) return false;
  for (let i = 0; i < count; i++) {
    const e = extAt + 20 + i * 12;
    if ((u32(file, e) + u32(file, e + 4) + u32(file, e + 8)) >>> 0 !== mainSum) return false;
  }
  return true;
}

/**
 * Make the blob at `offset` pass its checksums again after a mutation (when its
 * sizes allow), so the fuzzer also reaches the checks behind the checksums. A
 * count whose size wraps 32 bits is sealed too (its entries inside the table), so
 * the walk past the table is reached.
 */
export function reseal(file: Uint8Array, offset: number): void {
  if (file.length - offset < 48) return;
  const dataField = u32(file, offset + 28);
  const dataSize = dataField === 0 ? 2000 : dataField;
  const totalSize = dataField === 0 ? 2048 : u32(file, offset + 32);
  if (totalSize < 48 + dataSize || totalSize > file.length - offset) return;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  view.setUint32(offset + 16, 0, true);
  view.setUint32(offset + 16, (0x1_0000_0000 - dwordSum(file, offset, 48 + dataSize)) >>> 0, true);
  const extSize = totalSize - 48 - dataSize;
  const extAt = offset + 48 + dataSize;
  if (extSize < 20 || (extSize - 20) % 12 !== 0) return;
  const count = u32(file, extAt);
  if (Number(BigInt.asUintN(32, BigInt(count) * 12n + 20n)) !== extSize) return;
  const mainSum = (u32(file, offset + 12) + u32(file, offset + 24) + u32(file, offset + 16)) >>> 0;
  for (let i = 0; i < (extSize - 20) / 12; i++) {
    const e = extAt + 20 + i * 12;
    view.setUint32(e + 8, (mainSum - u32(file, e) - u32(file, e + 4)) >>> 0, true);
  }
  view.setUint32(extAt + 4, 0, true);
  view.setUint32(extAt + 4, (0x1_0000_0000 - dwordSum(file, extAt, extSize)) >>> 0, true);
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
