import { buildMicrocode } from '../format/index.js';
import type { MachineSpec } from '../platform/machine-spec.js';

/** Size of the public Granite Rapids blob (06-ad-01, 2025): about 1.6 MB. */
export const REALISTIC_IMAGE_BYTES = 1_670_144;

/**
 * How far the synthetic image's revision is above what the machine runs. On the
 * Granite Rapids presets (0x10003a2) this gives 0x10003f0, Intel's public 06-ad-01
 * revision, so a synthetic run and a run on the real file print the same lines;
 * and it stays below 0x1000405, which kernels after 6.19 refuse to jump over
 * (the GNR98 erratum skip), so the default run means the same on every kernel.
 */
export const SYNTHETIC_REVISION_STEP = 0x4e;

/**
 * A valid image for the machine's CPU, newer than what it runs, safe to
 * late-load, of a realistic size: the default when no firmware is at hand.
 */
export function syntheticImageFor(
  machine: Pick<MachineSpec, 'signature' | 'platformId' | 'initialRevision'>,
  opts: { totalBytes?: number; revision?: number; seed?: number } = {},
): Uint8Array {
  const total = opts.totalBytes ?? REALISTIC_IMAGE_BYTES;
  return buildMicrocode({
    signature: machine.signature,
    processorFlags: (1 << machine.platformId) | 0x80,
    revision: opts.revision ?? (machine.initialRevision + SYNTHETIC_REVISION_STEP) >>> 0,
    date: '2025-07-23',
    dataSize: Math.max(4, Math.floor((total - 48) / 4) * 4),
    minRequiredRevision: Math.min(machine.initialRevision, 1) || 1,
    fill: opts.seed ?? 1,
  });
}
