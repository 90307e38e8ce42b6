/** Size of the fixed Intel microcode header, in bytes. */
export const HEADER_SIZE = 48;

/** Data size and total size implied by a header whose data size field is 0 (pre-2000s format). */
export const LEGACY_DATA_SIZE = 2000;
export const LEGACY_TOTAL_SIZE = 2048;

/** The 12 little-endian dwords of the header, all unsigned 32-bit. */
export interface MicrocodeHeader {
  headerVersion: number;
  revision: number;
  /** BCD 0xMMDDYYYY; see decodeBcdDate. */
  date: number;
  /** CPUID(1).EAX of the processor the blob is for. */
  signature: number;
  checksum: number;
  loaderVersion: number;
  /** Mask of platform ids (1 << MSR 0x17[52:50]) the blob applies to. */
  processorFlags: number;
  dataSize: number;
  totalSize: number;
  metadataSize: number;
  /** Revision the CPU must already run for a late load to be "safe"; 0 in older blobs. */
  minRequiredRevision: number;
  reserved: number;
}

export type HeaderField = keyof MicrocodeHeader;

export const HEADER_FIELD_OFFSETS: Readonly<Record<HeaderField, number>> = {
  headerVersion: 0,
  revision: 4,
  date: 8,
  signature: 12,
  checksum: 16,
  loaderVersion: 20,
  processorFlags: 24,
  dataSize: 28,
  totalSize: 32,
  metadataSize: 36,
  minRequiredRevision: 40,
  reserved: 44,
};

/** Reads the header at `offset`; the caller guarantees 48 readable bytes there. */
export function parseHeader(bytes: Uint8Array, offset = 0): MicrocodeHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, HEADER_SIZE);
  const dword = (at: number): number => view.getUint32(at, true);
  return {
    headerVersion: dword(0),
    revision: dword(4),
    date: dword(8),
    signature: dword(12),
    checksum: dword(16),
    loaderVersion: dword(20),
    processorFlags: dword(24),
    dataSize: dword(28),
    totalSize: dword(32),
    metadataSize: dword(36),
    minRequiredRevision: dword(40),
    reserved: dword(44),
  };
}

/** Linux get_datasize(): a zero field means the legacy fixed size. */
export function effectiveDataSize(h: MicrocodeHeader): number {
  return h.dataSize || LEGACY_DATA_SIZE;
}

/**
 * Linux get_totalsize(): keyed on the data size field, not the total size field, so a legacy
 * header's total size field is ignored whatever it holds.
 */
export function effectiveTotalSize(h: MicrocodeHeader): number {
  return h.dataSize ? h.totalSize : LEGACY_TOTAL_SIZE;
}
