import { type BuildMicrocodeOptions, buildMicrocode, HEADER_FIELD_OFFSETS } from '../../src/format/index.js';

/** Set UCODE_FIRMWARE_DIR to a folder like intel-ucode/ to run the real-data tests. */
export const firmwareDir = process.env.UCODE_FIRMWARE_DIR || undefined;
export const firmwareSkipReason = 'UCODE_FIRMWARE_DIR is not set: real Intel microcode tests skipped';

export const SIG = 0x000a06d1;

/** A small valid image; tests only override what they are about. */
export function image(opts: Partial<BuildMicrocodeOptions> = {}): Uint8Array {
  return buildMicrocode({ signature: SIG, revision: 0x100, dataSize: 64, ...opts });
}

/** A copy grown (zero-filled) or shrunk to `length`, with the total size field set to match. */
export function resized(bytes: Uint8Array, length: number): Uint8Array {
  const copy = new Uint8Array(length);
  copy.set(bytes.subarray(0, Math.min(length, bytes.length)));
  new DataView(copy.buffer).setUint32(HEADER_FIELD_OFFSETS.totalSize, length, true);
  return copy;
}

export function dword(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
}
