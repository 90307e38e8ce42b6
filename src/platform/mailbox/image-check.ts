/**
 * What the device knows about the microcode format: just enough to size its
 * buffer from the first chunk and to check the main checksum when the image is
 * complete. It shares nothing with src/format; the driver side never sees any
 * of it.
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
 * is checked over all its dwords.
 */
export function mainChecksumOk(image: Uint32Array): boolean {
  let end = image.length;
  if (end >= HEADER_DWORDS) {
    const dataSize = image[DATA_SIZE_DWORD]!;
    const covered = HEADER_BYTES + (dataSize === 0 ? LEGACY_DATA_BYTES : dataSize);
    if (covered % 4 !== 0 || covered / 4 > image.length) return false;
    end = covered / 4;
  }
  return sumOf(image, end) === 0;
}

/** Dwords summed per call of sumBlock(). */
const BLOCK = 4096;

/**
 * Sum of image[0, end) modulo 2^32, a block at a time: sumBlock() runs a few
 * hundred times per image and is optimised as a whole function. One loop over
 * the whole image would be compiled on-stack-replaced in the middle of its first
 * call, before the code after the loop ever ran, and V8 then deoptimises at the
 * loop's end on every later call (a deopt loop: a third of the hot path's time).
 */
function sumOf(image: Uint32Array, end: number): number {
  let sum = 0;
  for (let at = 0; at < end; at += BLOCK) sum = (sum + sumBlock(image, at, Math.min(end, at + BLOCK))) | 0;
  return sum >>> 0;
}

/** Sum of words[from, to) modulo 2^32 (as an int32), with four independent sums. */
function sumBlock(words: Uint32Array, from: number, to: number): number {
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  let i = from;
  for (; i + 3 < to; i += 4) {
    a = (a + words[i]!) | 0;
    b = (b + words[i + 1]!) | 0;
    c = (c + words[i + 2]!) | 0;
    d = (d + words[i + 3]!) | 0;
  }
  for (; i < to; i++) a = (a + words[i]!) | 0;
  return (a + b + c + d) | 0;
}
