import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import {
  cpuCount,
  type FirmwareSource,
  findPreset,
  format,
  type MachineInput,
  MemoryFirmware,
  machineSpecInput,
  presetNames,
  quoted,
  type RunArgValues,
  resolveMachine,
  type SimulateOptions,
  SimulationInputError,
  simulateOptionsFromArgs,
} from '../index.js';
import { FolderFirmware } from './folder-firmware.js';
import { UsageError } from './io.js';
import { readMachineFile, readMicrocodeFile } from './read-input.js';

export const DEFAULT_FIRMWARE_DIR = '/lib/firmware/intel-ucode';

export type SimValues = RunArgValues;

export interface ResolvedSimOptions {
  options: SimulateOptions;
  /** What the image is, for "which image was used". */
  imageNote: string;
  /** Files the run reads (outputs must not overwrite them). */
  inputs: string[];
}

/** The library's input errors, as the CLI's usage errors (one line, exit 2). */
export function asUsage<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof SimulationInputError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * SimulateOptions from the flags: the machine (preset or file) is read here,
 * the rest is the library's grammar. `extraMachines` are other machines the
 * same run uses (a compare sweep), so the default firmware folder is used only
 * when it holds the file of every one of them.
 */
export async function resolveSimOptions(
  v: SimValues,
  env: Record<string, string | undefined>,
  extraMachines: MachineInput[] = [],
): Promise<ResolvedSimOptions> {
  const machineArg = typeof v.machine === 'string' ? v.machine : undefined;
  const machine = await loadMachine(machineArg);
  return asUsage(() => {
    const base = machineSpecInput(machine);
    const cpus =
      typeof base.packages === 'number' ? cpuCount(base as Parameters<typeof cpuCount>[0]) : 65_536;
    const options = simulateOptionsFromArgs(v, machine, cpus);
    const spec = resolveMachine(options.machine, options);
    const signatures = [spec.signature, ...extraMachines.map((m) => resolveMachine(m, options).signature)];
    const { firmware, note, inputs } = resolveImage(v, signatures, env);
    if (firmware !== undefined) options.firmware = firmware;
    const machineInputs = machineArg !== undefined && !isPresetName(machineArg) ? [machineArg] : [];
    return { options, imageNote: note, inputs: [...machineInputs, ...inputs] };
  });
}

function isPresetName(arg: string): boolean {
  return findPreset(arg) !== undefined;
}

/** --machine as the library takes it: a preset name, or the object read from a JSON/YAML file. */
export async function loadMachine(arg: string | undefined): Promise<MachineInput | undefined> {
  if (arg === undefined || isPresetName(arg)) return arg;
  if (!/[./]/.test(arg)) {
    throw new UsageError(
      `unknown machine preset ${quoted(arg)} (known: ${presetNames().join(', ')}; or give a .json/.yaml file)`,
    );
  }
  const text = readMachineFile(arg); // a regular file of at most 1 MiB, or a one-line UsageError
  const yaml = ['.yaml', '.yml'].includes(extname(arg).toLowerCase());
  let data: unknown;
  try {
    // The YAML parser is loaded only for a YAML file: it costs start-up time.
    data = yaml ? (await import('yaml')).parse(text) : JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `machine file '${arg}' is not valid ${extname(arg) === '.json' ? 'JSON' : 'JSON/YAML'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new UsageError(`machine file '${arg}' must hold an object`);
  }
  if (Object.hasOwn(data, 'extends')) {
    const base = (data as { extends: unknown }).extends;
    if (typeof base !== 'string' || !isPresetName(base))
      throw new UsageError(
        `machine file '${arg}': "extends" must name a preset (${presetNames().join(', ')})`,
      );
  }
  return data as MachineInput;
}

function resolveImage(
  v: SimValues,
  signatures: number[],
  env: Record<string, string | undefined>,
): { firmware: FirmwareSource | undefined; note: string; inputs: string[] } {
  const fileNames = signatures.map((s) => format.fmsFileName(s));
  const fileName = fileNames[0]!;
  const firmwareArg = typeof v.firmware === 'string' ? v.firmware : undefined;
  if (v.synthetic === true || v['image-size'] !== undefined) {
    if (firmwareArg !== undefined)
      throw new UsageError('--synthetic/--image-size and --firmware exclude each other');
    return { firmware: undefined, note: 'synthetic', inputs: [] };
  }
  if (firmwareArg !== undefined) {
    if (firmwareArg === '') throw new UsageError('--firmware expects a value, got an empty one');
    if (!existsSync(firmwareArg)) throw new UsageError(`firmware '${firmwareArg}' does not exist`);
    if (statSync(firmwareArg).isDirectory()) {
      try {
        readdirSync(firmwareArg);
      } catch {
        throw new UsageError(`cannot read firmware folder '${firmwareArg}'`);
      }
      return {
        firmware: new FolderFirmware(firmwareArg),
        note: `${join(firmwareArg, fileName)}`,
        inputs: fileNames.map((n) => join(firmwareArg, n)),
      };
    }
    // Installed under the CPU's own name, as if copied into /lib/firmware/intel-ucode.
    // A regular file of at most 64 MiB: a FIFO or /dev/zero is refused at once.
    const bytes = readMicrocodeFile(firmwareArg);
    const firmware = new MemoryFirmware(new Map([[`intel-ucode/${fileName}`, bytes]]), firmwareArg);
    return { firmware, note: firmwareArg, inputs: [firmwareArg] };
  }
  const dir = env.UCODE_STAGING_FIRMWARE_DIR ?? DEFAULT_FIRMWARE_DIR;
  if (fileNames.every((n) => existsSync(join(dir, n))))
    return {
      firmware: new FolderFirmware(dir),
      note: join(dir, fileName),
      inputs: fileNames.map((n) => join(dir, n)),
    };
  return { firmware: undefined, note: `synthetic (no ${join(dir, fileName)})`, inputs: [] };
}
