import {
  type CostModelOverrides,
  type CpuFault,
  type MachineSpec,
  MachineSpecError,
  type MachineSpecInput,
  parseMachineSpec,
} from '../platform/machine-spec.js';
import type { DeviceFault, DeviceProfile } from '../platform/mailbox/config.js';
import { DEFAULT_PRESET, findPreset, PRESETS } from '../platform/presets.js';
import { SimulationInputError } from './errors.js';
import { printable } from './printable.js';

/**
 * A machine file as users write it: a whole machine, or `"extends": "<preset>"`
 * plus the fields that differ (a shallow merge over the preset).
 */
export type MachineFileInput = MachineSpecInput | (Partial<MachineSpecInput> & { extends: string });

/** A preset name or a machine (file) object. */
export type MachineInput = string | MachineFileInput;

/** Something applied to one package's mailbox, or to every package when `pkg` is absent. */
export interface PackageScoped<T> {
  pkg?: number;
  value: T;
}

/**
 * Changes laid over a machine for one run: what the CLI's --profile, --fault,
 * --offline, --cpu-fault, --hz, --kernel and --cost say.
 */
export interface MachineOverrides {
  /** Replaces the profile of the packages it names. */
  profiles?: readonly PackageScoped<DeviceProfile>[];
  /** Added to the faults of the packages it names. */
  faults?: readonly PackageScoped<DeviceFault>[];
  /** Replaces the machine's offline CPUs. */
  offlineCpus?: readonly number[];
  /** Added to the machine's CPU faults. */
  cpuFaults?: readonly CpuFault[];
  /** Merged over the machine's cost-model overrides (hz and kernelGeneration included). */
  cost?: CostModelOverrides;
}

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

function unknownPreset(name: string, what = 'machine preset'): SimulationInputError {
  return new SimulationInputError(
    `unknown ${what} '${printable(name)}' (known: ${presetNames().join(', ')})`,
  );
}

/**
 * Fields a machine file may write as hex strings ("0x10003a2"), as every JSON
 * output prints them: [object path, field].
 */
const HEX_FIELDS: readonly [readonly string[], string][] = [
  [[], 'signature'],
  [[], 'initialRevision'],
  [['mailbox'], 'base'],
  [['mailbox'], 'stride'],
  [['mailbox'], 'undecodedRead'],
];

/** The file's hex strings as numbers (a copy; anything else is left for the schema to judge). */
function fromHexStrings<T extends object>(machine: T): T {
  const copy = structuredClone(machine) as Record<string, unknown>;
  const hex = (v: unknown) =>
    typeof v === 'string' && /^0x[0-9a-f]{1,13}$/i.test(v) ? Number.parseInt(v, 16) : v;
  for (const [path, field] of HEX_FIELDS) {
    let holder: unknown = copy;
    for (const key of path) holder = (holder as Record<string, unknown> | undefined)?.[key];
    if (typeof holder === 'object' && holder !== null && Object.hasOwn(holder, field))
      (holder as Record<string, unknown>)[field] = hex((holder as Record<string, unknown>)[field]);
  }
  if (Array.isArray(copy.lowMemory)) copy.lowMemory = copy.lowMemory.map(hex);
  return copy as T;
}

/** The machine as unvalidated input: a preset's copy, or a file with its `extends` resolved. */
export function machineSpecInput(machine: MachineInput | undefined): MachineSpecInput {
  if (machine === undefined || typeof machine === 'string') {
    const name = machine ?? DEFAULT_PRESET;
    const preset = findPreset(name);
    if (!preset) throw unknownPreset(name);
    return preset;
  }
  if (typeof machine !== 'object' || machine === null || Array.isArray(machine))
    throw new SimulationInputError('machine: expected a preset name or a machine object');
  if (!Object.hasOwn(machine, 'extends')) return fromHexStrings(machine) as MachineSpecInput;
  const { extends: base, ...rest } = fromHexStrings(machine) as Partial<MachineSpecInput> & {
    extends: unknown;
  };
  if (typeof base !== 'string')
    throw new SimulationInputError(
      `machine field 'extends': must name a preset (${presetNames().join(', ')})`,
    );
  const preset = findPreset(base);
  if (!preset) throw unknownPreset(base, "preset in 'extends':");
  return { ...preset, ...rest } as MachineSpecInput;
}

/** The machine with a run's overrides laid over it, still unvalidated. */
export function withOverrides(machine: MachineSpecInput, o: MachineOverrides): MachineSpecInput {
  const needs =
    o.profiles?.length || o.faults?.length || o.offlineCpus || o.cpuFaults?.length || o.cost !== undefined;
  if (!needs) return machine;
  const base: MachineSpecInput = structuredClone(machine);
  const packages = typeof base.packages === 'number' ? base.packages : 0;
  const configs = Array.from({ length: packages }, (_, p) => ({ ...(base.packageConfig?.[p] ?? {}) }));
  const targets = (flag: string, pkg: number | undefined): number[] => {
    if (pkg === undefined) return configs.map((_, i) => i);
    if (!Number.isInteger(pkg) || pkg < 0 || pkg >= packages)
      throw new SimulationInputError(`${flag}: package ${pkg} does not exist (the machine has ${packages})`);
    return [pkg];
  };
  for (const { pkg, value } of o.profiles ?? []) {
    for (const p of targets('profile', pkg)) configs[p]!.profile = value;
  }
  for (const { pkg, value } of o.faults ?? []) {
    for (const p of targets('fault', pkg)) configs[p]!.faults = [...(configs[p]!.faults ?? []), value];
  }
  if (o.profiles?.length || o.faults?.length) base.packageConfig = configs;
  if (o.offlineCpus) base.offlineCpus = [...o.offlineCpus];
  if (o.cpuFaults?.length) base.cpuFaults = [...(base.cpuFaults ?? []), ...o.cpuFaults];
  if (o.cost !== undefined) base.cost = { ...(base.cost ?? {}), ...o.cost };
  return base;
}

/**
 * A preset name, or a machine file object (with `"extends"`), with a run's
 * overrides, validated: what simulate() runs on. Both faces use this.
 */
export function resolveMachine(
  machine: MachineInput | undefined,
  overrides: MachineOverrides = {},
): MachineSpec {
  const input = withOverrides(machineSpecInput(machine), overrides);
  try {
    return parseMachineSpec(input);
  } catch (err) {
    if (err instanceof MachineSpecError) throw new SimulationInputError(err.message);
    throw err;
  }
}
