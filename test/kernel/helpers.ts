import { buildMicrocode, fmsFileName } from '../../src/format/index.js';
import { MemoryFirmware } from '../../src/kernel/firmware.js';
import type { MachineSpecInput } from '../../src/platform/machine-spec.js';
import { PRESETS } from '../../src/platform/presets.js';
import type { SimulationResult } from '../../src/sim/result-types.js';
import { type SimulateOptions, simulate } from '../../src/sim/simulate.js';

/** A small SMT machine: quick to simulate, same code paths as the big presets. */
export const SMALL: MachineSpecInput = {
  name: 'small',
  packages: 2,
  coresPerPackage: 4,
  threadsPerCore: 2,
  signature: 0xa06d1,
  platformId: 0,
  initialRevision: 0x100,
  staging: { archCapMcuEnum: true, mcuStaging: true },
};

export const NEW_REV = 0x200;

export function image(
  opts: { bytes?: number; revision?: number; minRev?: number; signature?: number } = {},
): Uint8Array {
  const total = opts.bytes ?? 64 * 1024;
  return buildMicrocode({
    signature: opts.signature ?? 0xa06d1,
    processorFlags: 0x95,
    revision: opts.revision ?? NEW_REV,
    dataSize: total - 48,
    minRequiredRevision: opts.minRev ?? 1,
    date: '2025-07-23',
  });
}

export function machine(over: Partial<MachineSpecInput> = {}): MachineSpecInput {
  return { ...SMALL, ...over };
}

export function run(
  m: MachineSpecInput | string,
  opts: Omit<SimulateOptions, 'machine'> & { img?: Uint8Array } = {},
): SimulationResult {
  const spec = typeof m === 'string' ? PRESETS[m]! : m;
  const { img, ...rest } = opts;
  const firmware =
    rest.firmware ??
    new MemoryFirmware(new Map([[`intel-ucode/${fmsFileName(spec.signature)}`, img ?? image()]]));
  return simulate({ ...rest, machine: m, firmware });
}

/** The log without timestamps. */
export function texts(r: SimulationResult): string[] {
  return r.log.map((l) => l.text);
}

/** Every core's threads agree on a revision (no silent mix within a core). */
export function coresConsistent(r: SimulationResult): boolean {
  const byCore = new Map<number, number>();
  for (const c of r.cpus) {
    const seen = byCore.get(c.core);
    if (seen !== undefined && seen !== c.revisionAfter) return false;
    byCore.set(c.core, c.revisionAfter);
  }
  return true;
}
