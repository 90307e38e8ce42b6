import { buildMicrocode, concatBlobs, type MicrocodeBlob, scanFile } from '../format/index.js';
import { parseMachineSpec } from '../platform/machine-spec.js';
import { PRESETS } from '../platform/presets.js';
import { syntheticImageFor } from '../sim/synthetic.js';

/** The largest file of the public intel-ucode release: Granite Rapids (CPUID 0xa06d1). */
export const REAL_IMAGE_NAME = '06-ad-01';

/** Sizes of the two blobs of 06-ad-01 (microcode-20251111): the synthetic stand-in matches them. */
const REAL_BLOB_BYTES = [1_670_144, 1_642_496] as const;

/**
 * A stand-in for 06-ad-01 when the real file is absent: two valid blobs of the
 * same sizes, the first for the gnr-2s CPU (signature 0xa06d1, platform 0), the
 * second for another platform, as in the real file.
 */
export function syntheticGnrFile(): Uint8Array {
  const spec = parseMachineSpec(PRESETS['gnr-2s']);
  const first = syntheticImageFor(spec, { totalBytes: REAL_BLOB_BYTES[0], seed: 1 });
  const second = buildMicrocode({
    signature: spec.signature,
    processorFlags: 0x20,
    revision: 0x0a00_0124,
    date: '2025-08-29',
    dataSize: REAL_BLOB_BYTES[1] - 48,
    minRequiredRevision: 1,
    fill: 2,
  });
  return concatBlobs(first, second);
}

/** The biggest valid blob of a microcode file (the one staging moves the most dwords for). */
export function largestBlob(file: Uint8Array): MicrocodeBlob {
  const { blobs, error } = scanFile(file);
  if (error || blobs.length === 0)
    throw new Error(`benchmark image is not a valid microcode file (${error?.message ?? 'empty'})`);
  let best = blobs[0]!;
  for (const b of blobs) if (b.totalSize > best.totalSize) best = b;
  return best;
}

/** The blob as the driver holds it: dwords in a buffer of its own (the kernel's ucode_patch_late copy). */
export function blobWords(blob: MicrocodeBlob): Uint32Array {
  const copy = blob.bytes.slice();
  return new Uint32Array(copy.buffer, 0, copy.length >>> 2);
}
