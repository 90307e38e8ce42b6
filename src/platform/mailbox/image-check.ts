import { sumWordsBetween } from '../../words/sum.js';

/**
 * What the device knows about the microcode format: just enough to size its
 * buffer from the first chunk and to check the main checksum when the image is
 * complete. It shares nothing with src/format but the dword sums of src/words;
 * the driver side never sees any of it.
 *
 * All functions work on dwords as they arrived through WRDATA, so nothing here
 * depends on the byte order of the JavaScript engine.
 */

const HEADER_BYTES = 48;
const HEADER_DWORDS = HEADER_BYTES / 4;
/** Header dword holding the data size (byte 28); 0 means the legacy 2000 bytes. */
const DATA_SIZE_DWORD = 7;
/** Header dword holding the total size (byte 32). */
const TOTAL_SIZE_DWORD = 8;
/** Header dword holding the update revision (byte 4). */
export const REVISION_DWORD = 1;
const LEGACY_DATA_BYTES = 2000;
const LEGACY_TOTAL_BYTES = 2048;

/**
 * Image length announced by the first chunk (`chunk` holds `chunkDwords`
 * dwords starting at `start`). A first chunk shorter than a header is taken
 * to be the whole (headerless) image. Returns the size in bytes, which the
 * caller must still validate (multiple of 4, plausible range).
 */
export function announcedImageBytes(chunk: Uint32Array, start: number, chunkDwords: number): number {
  if (chunkDwords < HEADER_DWORDS) return chunkDwords * 4;
  const dataSize = chunk[start + DATA_SIZE_DWORD]!;
  return dataSize === 0 ? LEGACY_TOTAL_BYTES : chunk[start + TOTAL_SIZE_DWORD]!;
}

/** True when the image carries a full microcode header (and so a revision). */
export function hasHeader(imageDwords: number): boolean {
  return imageDwords >= HEADER_DWORDS;
}

/**
 * Main checksum: the dwords of header + data sum to 0 mod 2^32. The extended
 * signature table after the data (if any) is not covered. A headerless image
 * is checked over all its dwords. `imageSum`, when known, is the sum of all
 * of `image` modulo 2^32: then only the part not covered is read.
 */
export function mainChecksumOk(image: Uint32Array, imageSum: number | undefined): boolean {
  let end = image.length;
  if (end >= HEADER_DWORDS) {
    const dataSize = image[DATA_SIZE_DWORD]!;
    const covered = HEADER_BYTES + (dataSize === 0 ? LEGACY_DATA_BYTES : dataSize);
    if (covered % 4 !== 0 || covered / 4 > image.length) return false;
    end = covered / 4;
  }
  if (imageSum === undefined) return sumWordsBetween(image, 0, end) === 0;
  return ((imageSum - sumWordsBetween(image, end, image.length)) | 0) === 0;
}
