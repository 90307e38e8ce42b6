import { MicrocodeFormatError } from './errors.js';
import { effectiveDataSize, effectiveTotalSize, HEADER_SIZE, type MicrocodeHeader } from './header.js';
import {
  EXT_SIGNATURE_SIZE,
  EXT_TABLE_HEADER_SIZE,
  findBlobFailure,
  isCheckFailure,
} from './sanity-check.js';

export interface ExtendedSignature {
  signature: number;
  processorFlags: number;
  checksum: number;
}

/** A blob that passed every check the kernel applies before considering it for loading. */
export interface MicrocodeBlob {
  /** Position in its file, counting from 0. */
  index: number;
  /** Byte offset in its file. */
  offset: number;
  header: MicrocodeHeader;
  /** Sizes after the legacy zero-data-size rule. */
  dataSize: number;
  totalSize: number;
  extendedSignatures: ExtendedSignature[];
  /** A view of the input (same buffer, never copied): images run to megabytes. */
  bytes: Uint8Array;
}

/** Checks the blob at `offset` of `file` as the kernel's file walk does; throws MicrocodeFormatError. */
export function checkBlob(file: Uint8Array, offset: number, index: number): MicrocodeBlob {
  const result = examineBlobAt(file, offset, index);
  if (result instanceof MicrocodeFormatError) throw result;
  return result;
}

/** checkBlob without the throw, for the scanner's hot loop and for callers that collect errors. */
export function examineBlobAt(
  file: Uint8Array,
  offset: number,
  index: number,
): MicrocodeBlob | MicrocodeFormatError {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`bad blob offset ${offset}`);
  const result = findBlobFailure(file, offset);
  if (isCheckFailure(result)) {
    return new MicrocodeFormatError(result.kind, { offset, index, headerVersion: result.headerVersion });
  }
  const header = result;
  const dataSize = effectiveDataSize(header);
  const totalSize = effectiveTotalSize(header);
  return {
    index,
    offset,
    header,
    dataSize,
    totalSize,
    extendedSignatures: readExtendedSignatures(
      file,
      offset + HEADER_SIZE + dataSize,
      totalSize - HEADER_SIZE - dataSize,
    ),
    bytes: file.subarray(offset, offset + totalSize),
  };
}

/**
 * Entries of an extended table that passed every check, counted from the table's size: in an
 * accepted blob the count field agrees with it, and nothing past the table is ever read.
 */
function readExtendedSignatures(
  file: Uint8Array,
  tableStart: number,
  tableSize: number,
): ExtendedSignature[] {
  if (tableSize === 0) return [];
  const view = new DataView(file.buffer, file.byteOffset + tableStart, tableSize);
  const count = (tableSize - EXT_TABLE_HEADER_SIZE) / EXT_SIGNATURE_SIZE;
  const signatures: ExtendedSignature[] = [];
  for (let i = 0; i < count; i++) {
    const at = EXT_TABLE_HEADER_SIZE + i * EXT_SIGNATURE_SIZE;
    signatures.push({
      signature: view.getUint32(at, true),
      processorFlags: view.getUint32(at + 4, true),
      checksum: view.getUint32(at + 8, true),
    });
  }
  return signatures;
}
