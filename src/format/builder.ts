import { HOST_IS_LITTLE_ENDIAN, sumWordRange } from '../words/sum.js';
import { WASM_BLOCK_BYTES, wasmWords } from '../words/wasm-words.js';
import { encodeBcdDate } from './date.js';
import { HEADER_FIELD_OFFSETS, HEADER_SIZE, type HeaderField, LEGACY_DATA_SIZE } from './header.js';
import { EXT_SIGNATURE_SIZE, EXT_TABLE_HEADER_SIZE } from './sanity-check.js';
import { sealExtSignatures, sealExtTable, sealMainChecksumOfData } from './seal.js';

export interface BuildMicrocodeOptions {
  signature: number;
  /** Default 0xff: every platform, so a test CPU matches whatever its platform id. */
  processorFlags?: number;
  revision: number;
  /** ISO "YYYY-MM-DD" or the raw BCD dword (which may be deliberately invalid). Default 2025-01-01. */
  date?: string | number;
  /** Bytes of payload, a positive multiple of 4. Default 2000. */
  dataSize?: number;
  /** Default 0, which makes a late load "unsafe" as in pre-2024 blobs. */
  minRequiredRevision?: number;
  metadataSize?: number;
  extendedSignatures?: { signature: number; processorFlags: number }[];
  /** Seed for the deterministic pseudo-random payload. */
  fill?: number;
  headerVersion?: number;
  loaderVersion?: number;
  /** Write 0 in the data size and total size fields: the kernel then assumes 2000/2048 bytes. */
  legacyZeroDataSize?: boolean;
}

const DEFAULT_DATE = '2025-01-01';

/** A valid microcode image (all three kinds of checksum correct) for tests and simulations. */
export function buildMicrocode(opts: BuildMicrocodeOptions): Uint8Array {
  const dataSize = opts.dataSize ?? LEGACY_DATA_SIZE;
  const extended = opts.extendedSignatures ?? [];
  if (!Number.isSafeInteger(dataSize) || dataSize <= 0 || dataSize % 4 !== 0) {
    throw new RangeError(`dataSize must be a positive multiple of 4, got ${dataSize}`);
  }
  if (opts.legacyZeroDataSize && (dataSize !== LEGACY_DATA_SIZE || extended.length > 0)) {
    throw new RangeError('a legacy (zero data size) image has exactly 2000 data bytes and no extended table');
  }
  const extTableSize = extended.length ? EXT_TABLE_HEADER_SIZE + extended.length * EXT_SIGNATURE_SIZE : 0;
  const totalSize = HEADER_SIZE + dataSize + extTableSize;
  const image = new Uint8Array(totalSize);
  const dataSum = fillPayload(image, HEADER_SIZE, dataSize, opts.fill ?? 0);

  const date = opts.date ?? DEFAULT_DATE;
  const fields: Partial<Record<HeaderField, number>> = {
    headerVersion: opts.headerVersion ?? 1,
    revision: opts.revision,
    date: typeof date === 'string' ? encodeBcdDate(date) : date,
    signature: opts.signature,
    loaderVersion: opts.loaderVersion ?? 1,
    processorFlags: opts.processorFlags ?? 0xff,
    dataSize: opts.legacyZeroDataSize ? 0 : dataSize,
    totalSize: opts.legacyZeroDataSize ? 0 : totalSize,
    metadataSize: opts.metadataSize ?? 0,
    minRequiredRevision: opts.minRequiredRevision ?? 0,
  };
  const view = new DataView(image.buffer);
  for (const [field, value] of Object.entries(fields) as [HeaderField, number][]) {
    view.setUint32(HEADER_FIELD_OFFSETS[field], value >>> 0, true);
  }
  if (extended.length) {
    const table = HEADER_SIZE + dataSize;
    view.setUint32(table, extended.length, true);
    extended.forEach((e, i) => {
      const entry = table + EXT_TABLE_HEADER_SIZE + i * EXT_SIGNATURE_SIZE;
      view.setUint32(entry, e.signature >>> 0, true);
      view.setUint32(entry + 4, e.processorFlags >>> 0, true);
    });
  }
  // The header and data are exactly what the main checksum covers (the legacy
  // zero size means the 2000 data bytes written): the data's sum is known.
  sealMainChecksumOfData(image, dataSum);
  sealExtSignatures(image);
  sealExtTable(image);
  return image;
}

/** Payload words generated per fillBlock() call. */
const FILL_BLOCK = 4096;
const WASM_BLOCK_WORDS = WASM_BLOCK_BYTES / 4;

/**
 * xorshift32 words; returns their sum modulo 2^32 (as an int32). Each block is
 * summed by the checksum's own loop right after it is made, while in cache:
 * the main checksum then needs no pass over the image, and that loop is
 * compiled (on another thread, while the fill goes on) before the kernel's
 * check of the same image runs it. A process's first 1.6 MB build and parse
 * otherwise run two loops unoptimised (each for about 4 ms) one after the other.
 */
function fillPayload(image: Uint8Array, start: number, length: number, seed: number): number {
  const words = new Uint32Array(image.buffer, image.byteOffset + start, length / 4);
  const n = words.length;
  let state = (seed ^ 0x9e3779b9) >>> 0 || 1;
  let sum = 0;
  const wasm = HOST_IS_LITTLE_ENDIAN ? wasmWords() : null;
  if (wasm !== null) {
    // Made and summed in the module's memory, then copied out: the same words, at
    // full speed from a process's first image on (wasm-words.ts).
    for (let at = 0; at < n; at += WASM_BLOCK_WORDS) {
      const count = Math.min(WASM_BLOCK_WORDS, n - at);
      state = wasm.fill(0, count * 4, state);
      sum = (sum + wasm.sum(0, count * 4)) | 0;
      words.set(wasm.words.subarray(0, count), at);
    }
    return sum;
  }
  for (let at = 0; at < n; at += FILL_BLOCK) {
    const end = Math.min(n, at + FILL_BLOCK);
    state = fillBlock(words, at, end, state);
    sum = (sum + sumWordRange(words, at, end)) | 0;
  }
  return sum;
}

/** words[from, to) from the xorshift32 generator at `state`; returns the state after them. */
function fillBlock(words: Uint32Array, from: number, to: number, state: number): number {
  let x = state;
  for (let i = from; i < to; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return x;
}

/** One file holding the given images back to back, as Intel's multi-blob files do. */
export function concatBlobs(...images: Uint8Array[]): Uint8Array {
  const file = new Uint8Array(images.reduce((n, image) => n + image.length, 0));
  let offset = 0;
  for (const image of images) {
    file.set(image, offset);
    offset += image.length;
  }
  return file;
}
