import type { MachineFileInput } from '../sim/machine-input.js';

/** Intel's largest public microcode blob (microcode-20251111, 06-ad-01, revision 0x10003f0, 2025-07-23). */
export const LARGEST_PUBLIC_BLOB = Object.freeze({
  bytes: 1_670_144,
  file: '06-ad-01',
  revision: 0x10003f0,
  release: 'microcode-20251111',
});

/** The presets every table runs over, in this order (a fixed list: a new preset does not move the document). */
export const TABLE_PRESETS = ['gnr-2s', 'gnr-2s-interleaved', 'srf-2s', 'spr-2s', 'gnr-8s', 'up'] as const;
/** The presets whose CPU numbering is package by package (the interleaved one is finding 1's own). */
export const PACKAGE_MAJOR_PRESETS = ['gnr-2s', 'srf-2s', 'spr-2s', 'gnr-8s', 'up'] as const;
/** The presets that enumerate staging and are numbered package by package. */
export const STAGING_PRESETS = ['gnr-2s', 'srf-2s', 'gnr-8s', 'up'] as const;
export const HZS = [250, 1000] as const;
export type Hz = 100 | 250 | 300 | 1000;
export const KERNELS = ['6.12+', 'pre-6.12'] as const;

/** Where the findings' machine files are, relative to the repository (the commands name them). */
export const FINDINGS_DIR = 'docs/findings';

/**
 * The host of the one public staging log (openvelinux/kernel pull request #94):
 * 144 CPUs, no SMT siblings. The CPU is not named; revision 0x800002f0 is in no
 * public release. Assumed here: one package of 144 cores (a Sierra Forest-class
 * part has 144 E-cores without SMT), the Sierra Forest signature, and a running
 * revision 0x4e below 0x800002f0 so that the synthetic image is that revision.
 */
export const OVL_144: MachineFileInput = {
  extends: 'srf-2s',
  name: 'ovl-144',
  description:
    'The host of openvelinux/kernel PR #94: 144 CPUs, no SMT (assumed: one 144-core package, Sierra Forest signature)',
  packages: 1,
  coresPerPackage: 144,
  threadsPerCore: 1,
  initialRevision: 0x800002a2,
};
export const OVL_144_FILE = `${FINDINGS_DIR}/ovl-144.json`;

/** The same host read as two packages of 72 cores (staging then takes two passes). */
export const OVL_144_2S: MachineFileInput = {
  ...OVL_144,
  name: 'ovl-144-2s',
  description: 'The host of openvelinux/kernel PR #94 read as two packages of 72 cores without SMT',
  packages: 2,
  coresPerPackage: 72,
};
export const OVL_144_2S_FILE = `${FINDINGS_DIR}/ovl-144-2s.json`;
