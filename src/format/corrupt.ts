import { HEADER_FIELD_OFFSETS, type HeaderField } from './header.js';
import { extTableOffset, sealExtSignatures, sealExtTable, sealMainChecksum } from './seal.js';

// Helpers for negative tests. Each returns a modified copy of a single-blob image (concatenate
// afterwards for multi-blob files) and never touches its input.

/** Writes one little-endian dword. */
export function setDword(image: Uint8Array, byteOffset: number, value: number): Uint8Array {
  const copy = image.slice();
  new DataView(copy.buffer).setUint32(byteOffset, value >>> 0, true);
  return copy;
}

/** XORs one dword with `mask` (all bits by default). */
export function flipDword(image: Uint8Array, byteOffset: number, mask = 0xffffffff): Uint8Array {
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  return setDword(image, byteOffset, view.getUint32(byteOffset, true) ^ mask);
}

/**
 * Sets a header field. With `fixChecksum`, all checksums are then recomputed, so the field's
 * own rule is the only one the image breaks.
 */
export function withHeaderField(
  image: Uint8Array,
  field: HeaderField,
  value: number,
  opts: { fixChecksum?: boolean } = {},
): Uint8Array {
  const copy = setDword(image, HEADER_FIELD_OFFSETS[field], value);
  return opts.fixChecksum ? fixChecksums(copy) : copy;
}

/** The first `length` bytes. */
export function truncate(image: Uint8Array, length: number): Uint8Array {
  return image.slice(0, length);
}

/** Recomputes the header checksum only (extended entries may then disagree with it). */
export function fixMainChecksum(image: Uint8Array): Uint8Array {
  const copy = image.slice();
  sealMainChecksum(copy);
  return copy;
}

/** Recomputes each extended entry's checksum against the main header. */
export function fixExtSignatureChecksums(image: Uint8Array): Uint8Array {
  const copy = image.slice();
  sealExtSignatures(copy);
  return copy;
}

/** Recomputes the extended table's own checksum. */
export function fixExtTableChecksum(image: Uint8Array): Uint8Array {
  const copy = image.slice();
  sealExtTable(copy);
  return copy;
}

/** All three, in dependency order. */
export function fixChecksums(image: Uint8Array): Uint8Array {
  const copy = image.slice();
  sealMainChecksum(copy);
  sealExtSignatures(copy);
  sealExtTable(copy);
  return copy;
}

export { extTableOffset };
