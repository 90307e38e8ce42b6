// An independent reading of the kernel's microcode file checks (late-load.md:
// "Firmware request" and "Header layout"), written from the spec and sharing no
// code with src/format. The fuzzers compare src/format with it; its checksum
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

export interface OracleBlob {
  offset: number;
  totalSize: number;
  dataSize: number;
  revision: number;
  signature: number;
  processorFlags: number;
  ext: { signature: number; processorFlags: number; checksum: number }[];
}

export interface OracleScan {
  blobs: OracleBlob[];
  error?: { kind: OracleErrorKind; offset: number };
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** Sum mod 2^32 of the whole little-endian dwords in [at, at + length). */
export function dwordSum(bytes: Uint8Array, at: number, length: number): number {
  let sum = 0;
  const end = at + Math.floor(length / 4) * 4;
  for (let i = at; i < end; i += 4) sum = (sum + u32(bytes, i)) >>> 0;
  return sum;
}

/** The kernel's walk over a whole file: every blob checked, the first failure rejects the file. */
export function oracleScan(file: Uint8Array): OracleScan {
  const blobs: OracleBlob[] = [];
  let off = 0;
  while (off < file.length) {
    const fail = (kind: OracleErrorKind): OracleScan => ({ blobs, error: { kind, offset: off } });
    if (file.length - off < 48) return fail('truncated-header');
    const headerVersion = u32(file, off);
    const signature = u32(file, off + 12);
    const checksum = u32(file, off + 16);
    const loaderVersion = u32(file, off + 20);
    const processorFlags = u32(file, off + 24);
    const dataField = u32(file, off + 28);
    const totalField = u32(file, off + 32);
    // A zero data size means the original format: 2000 data bytes, 2048 in all.
    const dataSize = dataField === 0 ? 2000 : dataField;
    const totalSize = dataField === 0 ? 2048 : totalField;
    if (totalSize < 48) return fail('totalsize-too-small');
    if (totalSize > file.length - off) return fail('truncated-file');
    if (dataSize + 48 > totalSize) return fail('bad-size');
    if (headerVersion !== 1 || loaderVersion !== 1) return fail('bad-header-version');
    const extSize = totalSize - 48 - dataSize;
    const extAt = off + 48 + dataSize;
    const ext: OracleBlob['ext'] = [];
    let count = 0;
    if (extSize > 0) {
      if (extSize < 20 || (extSize - 20) % 12 !== 0) return fail('ext-table-truncated');
      count = u32(file, extAt);
      if (count * 12 + 20 !== extSize) return fail('ext-table-size-mismatch');
      if (dwordSum(file, extAt, extSize) !== 0) return fail('ext-table-checksum');
    }
    if (dwordSum(file, off, 48 + dataSize) !== 0) return fail('data-checksum');
    const mainSum = (signature + processorFlags + checksum) >>> 0;
    for (let i = 0; i < count; i++) {
      const e = extAt + 20 + i * 12;
      const entry = { signature: u32(file, e), processorFlags: u32(file, e + 4), checksum: u32(file, e + 8) };
      if ((entry.signature + entry.processorFlags + entry.checksum) >>> 0 !== mainSum)
        return fail('ext-signature-checksum');
      ext.push(entry);
    }
    blobs.push({
      offset: off,
      totalSize,
      dataSize,
      revision: u32(file, off + 4),
      signature,
      processorFlags,
      ext,
    });
    off += totalSize;
  }
  return { blobs };
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
  for (let i = 0; i < count; i++) {
    const e = extAt + 20 + i * 12;
    if ((u32(file, e) + u32(file, e + 4) + u32(file, e + 8)) >>> 0 !== mainSum) return false;
  }
  return true;
}

/**
 * Make the blob at `offset` pass its checksums again after a mutation (when its
 * sizes allow), so the fuzzer also reaches the checks behind the checksums.
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
  if (count * 12 + 20 !== extSize) return;
  const mainSum = (u32(file, offset + 12) + u32(file, offset + 24) + u32(file, offset + 16)) >>> 0;
  for (let i = 0; i < count; i++) {
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
