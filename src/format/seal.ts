import { sumDwords } from '../words/sum.js';
import {
  effectiveDataSize,
  effectiveTotalSize,
  HEADER_FIELD_OFFSETS,
  HEADER_SIZE,
  parseHeader,
} from './header.js';
import { EXT_SIGNATURE_SIZE, EXT_TABLE_HEADER_SIZE } from './sanity-check.js';

// In-place checksum writers for an image at offset 0 of `image`. Their order matters: the
// extended entries depend on the main checksum, and the table checksum on the entries.

function dataView(image: Uint8Array): DataView {
  return new DataView(image.buffer, image.byteOffset, image.byteLength);
}

function requireLength(image: Uint8Array, needed: number): void {
  if (needed > image.length) throw new RangeError(`image has ${image.length} bytes, layout needs ${needed}`);
}

/** Sets the header checksum so header+data sum to 0. */
export function sealMainChecksum(image: Uint8Array): void {
  requireLength(image, HEADER_SIZE);
  const dataBytes = effectiveDataSize(parseHeader(image));
  requireLength(image, HEADER_SIZE + dataBytes);
  sealMainChecksumOfData(image, sumDwords(image, HEADER_SIZE, dataBytes));
}

/**
 * sealMainChecksum() for an image whose data part (the bytes after the header
 * that the main checksum covers) sums to `dataSum` modulo 2^32: only the
 * header is read.
 */
export function sealMainChecksumOfData(image: Uint8Array, dataSum: number): void {
  requireLength(image, HEADER_SIZE + effectiveDataSize(parseHeader(image)));
  const view = dataView(image);
  view.setUint32(HEADER_FIELD_OFFSETS.checksum, 0, true);
  const sum = (sumDwords(image, 0, HEADER_SIZE) + dataSum) >>> 0;
  view.setUint32(HEADER_FIELD_OFFSETS.checksum, (2 ** 32 - sum) % 2 ** 32, true);
}

/** Offset of the extended table, or undefined when the layout has none. */
export function extTableOffset(image: Uint8Array): number | undefined {
  requireLength(image, HEADER_SIZE);
  const header = parseHeader(image);
  const start = HEADER_SIZE + effectiveDataSize(header);
  return effectiveTotalSize(header) > start ? start : undefined;
}

/**
 * Sets each extended entry's checksum so its (sig + pf + cksum) equals the main header's: the
 * entries the count names, but never one past the table's end (a count whose size wraps 32 bits
 * names 2^30 more).
 */
export function sealExtSignatures(image: Uint8Array): void {
  const table = extTableOffset(image);
  if (table === undefined) return;
  const view = dataView(image);
  const header = parseHeader(image);
  const tableSize = effectiveTotalSize(header) - table;
  const fit = Math.max(0, Math.floor((tableSize - EXT_TABLE_HEADER_SIZE) / EXT_SIGNATURE_SIZE));
  const count = Math.min(view.getUint32(table, true), fit);
  requireLength(image, table + EXT_TABLE_HEADER_SIZE + count * EXT_SIGNATURE_SIZE);
  const mainSum = header.signature + header.processorFlags + header.checksum;
  for (let i = 0; i < count; i++) {
    const entry = table + EXT_TABLE_HEADER_SIZE + i * EXT_SIGNATURE_SIZE;
    const rest = view.getUint32(entry, true) + view.getUint32(entry + 4, true);
    view.setUint32(entry + 8, (((mainSum - rest) % 2 ** 32) + 2 ** 32) % 2 ** 32, true);
  }
}

/** Sets the extended table checksum so the table's dwords sum to 0. */
export function sealExtTable(image: Uint8Array): void {
  const table = extTableOffset(image);
  if (table === undefined) return;
  const size = effectiveTotalSize(parseHeader(image)) - table;
  requireLength(image, table + size);
  const view = dataView(image);
  view.setUint32(table + 4, 0, true);
  view.setUint32(table + 4, (2 ** 32 - sumDwords(image, table, size)) % 2 ** 32, true);
}
