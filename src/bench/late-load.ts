/** Benchmarks 2 and 3: whole late loads through simulate(), the library entry. */
import type { MachineSpecInput } from '../platform/machine-spec.js';
import { PRESETS } from '../platform/presets.js';
import type { SimulationResult } from '../sim/result-types.js';
import { simulate } from '../sim/simulate.js';

export interface LateLoadCase {
  machine: string | MachineSpecInput;
  firmware: Uint8Array;
  /** 'off': the same load without the staging step (what the rest of the load costs). */
  staging: 'auto' | 'off';
}

/** One late load, no trace recording, the image given as the file's bytes. */
export function lateLoad(c: LateLoadCase): SimulationResult {
  return simulate({ machine: c.machine, firmware: c.firmware, trace: false, policy: { staging: c.staging } });
}

/** Throws unless every CPU took the update (and, with staging, every package staged it). */
export function checkLateLoad(c: LateLoadCase, r: SimulationResult): void {
  if (r.outcome !== 'updated') throw new Error(`late load ended '${r.outcome}', not 'updated'`);
  if (c.staging === 'auto' && !r.staging.ok) throw new Error('staging did not succeed');
}

export interface Shape {
  cpus: number;
  packages: number;
  coresPerPackage: number;
  threadsPerCore: 1 | 2;
}

/**
 * Machines of 1 to 65,536 CPUs; all but the first have 2 threads per core. From
 * 8,192 CPUs up the packages grow with the CPUs (512 cores each), so staging
 * grows with them too: the growth target is fitted on those four.
 */
export const SCALING_SHAPES: readonly Shape[] = [
  { cpus: 1, packages: 1, coresPerPackage: 1, threadsPerCore: 1 },
  { cpus: 64, packages: 2, coresPerPackage: 16, threadsPerCore: 2 },
  { cpus: 512, packages: 2, coresPerPackage: 128, threadsPerCore: 2 },
  { cpus: 2048, packages: 2, coresPerPackage: 512, threadsPerCore: 2 },
  { cpus: 8192, packages: 8, coresPerPackage: 512, threadsPerCore: 2 },
  { cpus: 16384, packages: 16, coresPerPackage: 512, threadsPerCore: 2 },
  { cpus: 32768, packages: 32, coresPerPackage: 512, threadsPerCore: 2 },
  { cpus: 65536, packages: 64, coresPerPackage: 512, threadsPerCore: 2 },
];

/** The shapes the growth exponent is fitted on. */
export const GROWTH_FROM_CPUS = 8192;

/** The gnr-2s CPU (so the real 06-ad-01 image applies) in the given shape. */
export function shapeMachine(s: Shape): MachineSpecInput {
  const gnr = PRESETS['gnr-2s']!;
  return {
    ...gnr,
    name: `bench-${s.cpus}`,
    description: `${s.packages} packages x ${s.coresPerPackage} cores x ${s.threadsPerCore} threads`,
    packages: s.packages,
    coresPerPackage: s.coresPerPackage,
    threadsPerCore: s.threadsPerCore,
  };
}
