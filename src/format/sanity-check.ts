import { sumDwords } from '../words/sum.js';
import { type FormatErrorKind, MicrocodeFormatError } from './errors.js';
import {
  effectiveDataSize,
  effectiveTotalSize,
  HEADER_SIZE,
  type MicrocodeHeader,
  parseHeader,
} from './header.js';

/** count, checksum and three reserved dwords. */
export const EXT_TABLE_HEADER_SIZE = 20;
/** signature, processor flags, checksum. */
export const EXT_SIGNATURE_SIZE = 12;

/** Data sizes from here up are negative in the kernel's int. */
const INT_LIMIT = 0x8000_0000;

/**
 * Linux exttable_size(): count * 12 + 20 returned as an unsigned int, so it wraps modulo 2^32
 * (a count of 0x40000001 gives 32, the size of a table with one entry).
 */
export function exttableSize(count: number): number {
  return (Math.imul(count, EXT_SIGNATURE_SIZE) + EXT_TABLE_HEADER_SIZE) >>> 0;
}

export interface CheckFailure {
  kind: FormatErrorKind;
  headerVersion: number;
}

const failure = (kind: FormatErrorKind, header: MicrocodeHeader): CheckFailure => ({
  kind,
  headerVersion: header.headerVersion,
});

/**
 * Linux intel_microcode_sanity_check() on the blob at `start`, whose effective total size the
 * caller has already found to be in bounds. Checks run in the kernel's order, so a blob that
 * breaks several rules reports the same one the kernel would.
 */
export function findSanityFailure(
  bytes: Uint8Array,
  start: number,
  header: MicrocodeHeader,
): CheckFailure | undefined {
  const totalSize = effectiveTotalSize(header);
  const dataSize = effectiveDataSize(header);
  // The kernel reads the data size through an int and widens it to 64 bits: from 2 GiB up it
  // is negative, sign-extended to more than any total size. Sizes 0xffffffd0 and up would wrap
  // `48 + data size` to 0-47 there and pass; we refuse those on purpose (docs/format.md).
  if (dataSize >= INT_LIMIT || dataSize + HEADER_SIZE > totalSize) return failure('bad-size', header);
  if (header.loaderVersion !== 1 || header.headerVersion !== 1) return failure('bad-header-version', header);

  const extTableSize = totalSize - (HEADER_SIZE + dataSize);
  const extTableStart = start + HEADER_SIZE + dataSize;
  let extCount = 0;
  if (extTableSize !== 0) {
    if (extTableSize < EXT_TABLE_HEADER_SIZE || (extTableSize - EXT_TABLE_HEADER_SIZE) % EXT_SIGNATURE_SIZE) {
      return failure('ext-table-truncated', header);
    }
    extCount = readDword(bytes, extTableStart);
    if (extTableSize !== exttableSize(extCount)) return failure('ext-table-size-mismatch', header);
    if (sumDwords(bytes, extTableStart, extTableSize) !== 0) return failure('ext-table-checksum', header);
  }

  if (sumDwords(bytes, start, HEADER_SIZE + dataSize) !== 0) return failure('data-checksum', header);

  const mainSum = header.signature + header.processorFlags + header.checksum;
  const entriesInTable = (extTableSize - EXT_TABLE_HEADER_SIZE) / EXT_SIGNATURE_SIZE;
  for (let i = 0; i < extCount; i++) {
    // Only a count whose size wrapped 32 bits names entries past the table, which ends with the
    // blob. The kernel reads them from whatever memory follows its copy of the blob; we refuse
    // as if they did not match, its likely outcome (docs/format.md).
    if (i >= entriesInTable) return failure('ext-signature-checksum', header);
    const entry = extTableStart + EXT_TABLE_HEADER_SIZE + i * EXT_SIGNATURE_SIZE;
    const entrySum = readDword(bytes, entry) + readDword(bytes, entry + 4) + readDword(bytes, entry + 8);
    if ((mainSum - entrySum) % 2 ** 32 !== 0) return failure('ext-signature-checksum', header);
  }
  return undefined;
}

/**
 * The file-walk bounds checks followed by the kernel's sanity check, for one blob at `start`.
 * Shared by the file scanner and by sanityCheck() so both apply the same order.
 */
export function findBlobFailure(bytes: Uint8Array, start: number): CheckFailure | MicrocodeHeader {
  if (bytes.length - start < HEADER_SIZE) return { kind: 'truncated-header', headerVersion: 0 };
  const header = parseHeader(bytes, start);
  const totalSize = effectiveTotalSize(header);
  if (totalSize < HEADER_SIZE) return failure('totalsize-too-small', header);
  if (totalSize - HEADER_SIZE > bytes.length - start - HEADER_SIZE) return failure('truncated-file', header);
  return findSanityFailure(bytes, start, header) ?? header;
}

export function isCheckFailure(result: CheckFailure | MicrocodeHeader): result is CheckFailure {
  return 'kind' in result;
}

/**
 * Checks one blob as the kernel does before loading it. Meant for an image whose length is its
 * total size (an emulated CPU receiving an image); bytes past the total size are ignored, and a
 * buffer too short for its header or total size fails like a truncated file would.
 */
export function sanityCheck(blobBytes: Uint8Array): MicrocodeFormatError | undefined {
  const result = findBlobFailure(blobBytes, 0);
  if (!isCheckFailure(result)) return undefined;
  return new MicrocodeFormatError(result.kind, { headerVersion: result.headerVersion });
}

function readDword(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}
