import { fmsFileName } from '../format/index.js';
import { MicrocodeCore } from '../kernel/core.js';
import { type FirmwareSource, MemoryFirmware } from '../kernel/firmware.js';
import { IntelMicrocodeDriver } from '../kernel/intel/driver.js';
import { type Policy, type PolicyInput, PolicySchema } from '../kernel/policy.js';
import { KernelLog } from '../kernel/printk.js';
import { Tracer } from '../kernel/trace.js';
import { Machine } from '../platform/machine.js';
import {
  type MachineSpec,
  MachineSpecError,
  type MachineSpecInput,
  parseMachineSpec,
} from '../platform/machine-spec.js';
import { MmioTraceRecorder } from '../platform/mmio-trace.js';
import { DEFAULT_PRESET, PRESETS } from '../platform/presets.js';
import { NS_PER_S } from '../time/clock.js';
import { buildResult } from './result.js';
import type { SimulationResult } from './result-types.js';
import { syntheticImageFor } from './synthetic.js';

export interface SimulateOptions {
  /** A preset name (see PRESETS) or a machine description. Default: 'gnr-2s'. */
  machine?: string | MachineSpecInput;
  /**
   * Where `intel-ucode/FF-MM-SS` comes from: a FirmwareSource (e.g. a folder, from
   * the CLI), or the bytes of one microcode file used whatever its name. Default:
   * a synthetic image of realistic size for the machine's CPU.
   */
  firmware?: FirmwareSource | Uint8Array;
  /** Size of the synthetic image used when no firmware is given. Default about 1.6 MB. */
  syntheticImageBytes?: number;
  policy?: PolicyInput;
  /** Seeds every random choice (device re-requests, probabilistic faults). */
  seed?: number;
  /** Record spans and counters for the trace exporters and the HTML report. Default true. */
  trace?: boolean;
  /** Record every MMIO access for mmiotrace. Default false (it costs memory). */
  mmioTrace?: boolean;
  /** Virtual time of driver init and of the late load. Defaults: 1.5 s and 120 s after boot. */
  bootAtNs?: number;
  reloadAtNs?: number;
  /** Stop a run whose virtual time passes this (default: one hour after the reload). */
  virtualTimeLimitNs?: number;
  /** Progress of the staging step (the long part of runs that stage many times). */
  onStagingProgress?: (passesDone: number, passesPlanned: number) => void;
  /** Called with the machine after the run, for checks on hardware state (tests, campaigns). */
  onFinish?: (ctx: { machine: Machine; image: Uint8Array | undefined }) => void;
}

export class SimulationInputError extends Error {
  override name = 'SimulationInputError';
}

export function resolveMachine(machine: string | MachineSpecInput | undefined): MachineSpec {
  if (machine === undefined || typeof machine === 'string') {
    const name = machine ?? DEFAULT_PRESET;
    const preset = PRESETS[name];
    if (!preset)
      throw new SimulationInputError(
        `unknown machine preset '${name}' (known: ${Object.keys(PRESETS).join(', ')})`,
      );
    return parseMachineSpec(preset);
  }
  try {
    return parseMachineSpec(machine);
  } catch (err) {
    if (err instanceof MachineSpecError) throw new SimulationInputError(err.message);
    throw err;
  }
}

/** Run one late load on an emulated machine and return everything it did. */
export function simulate(opts: SimulateOptions = {}): SimulationResult {
  const spec = resolveMachine(opts.machine);
  const policyParse = PolicySchema.safeParse(opts.policy ?? {});
  if (!policyParse.success) {
    const issue = policyParse.error.issues[0]!;
    throw new SimulationInputError(`policy field '${issue.path.join('.') || '(policy)'}': ${issue.message}`);
  }
  const policy: Policy = policyParse.data;
  const seed = opts.seed ?? 1;
  const bootAtNs = opts.bootAtNs ?? 1.5 * NS_PER_S;
  const reloadAtNs = opts.reloadAtNs ?? 120 * NS_PER_S;

  const { firmware, imageSource } = resolveFirmware(opts.firmware, spec, seed, opts.syntheticImageBytes);
  const machine = new Machine(spec, {
    seed,
    startNs: bootAtNs,
    virtualTimeLimitNs: opts.virtualTimeLimitNs ?? reloadAtNs + 3600 * NS_PER_S,
  });
  const recorder = opts.mmioTrace ? new MmioTraceRecorder() : undefined;
  machine.bus.recorder = recorder;
  const log = new KernelLog(machine);
  const tracer = new Tracer(opts.trace ?? true);
  const topo = machine.topology;
  const driver = new IntelMicrocodeDriver({
    port: machine,
    log,
    tracer,
    policy,
    firmware,
    ...(opts.onStagingProgress ? { onStagingProgress: opts.onStagingProgress } : {}),
    topology: {
      cpus: topo.cpus,
      isPrimary: (cpu) => topo.isPrimary[cpu] === 1,
      packageOf: (cpu) => topo.packageOf[cpu]!,
    },
  });
  const core = new MicrocodeCore({
    port: machine,
    cpuAvailability: machine,
    ops: driver,
    log,
    tracer,
    policy,
    cost: machine.cost,
    topology: {
      cpus: topo.cpus,
      online: (cpu) => machine.online[cpu] === 1,
      isPrimary: (cpu) => topo.isPrimary[cpu] === 1,
      coreSiblings: (cpu) => topo.coreCpus[topo.coreOf[cpu]!]!,
    },
  });

  core.init();
  const revisionsBefore = Uint32Array.from({ length: topo.cpus }, (_, cpu) => machine.revisionOf(cpu));
  machine.runAt(Math.max(reloadAtNs, machine.now()));
  const load = core.reload();

  opts.onFinish?.({ machine, image: driver.pendingImage()?.bytes });
  return buildResult({
    spec,
    machine,
    policy,
    seed,
    load,
    log,
    tracer,
    recorder,
    revisionsBefore,
    image: driver.pendingImage() ?? undefined,
    imageSource,
  });
}

function resolveFirmware(
  given: FirmwareSource | Uint8Array | undefined,
  spec: MachineSpec,
  seed: number,
  syntheticBytes: number | undefined,
): { firmware: FirmwareSource; imageSource: string } {
  const name = `intel-ucode/${fmsFileName(spec.signature)}`;
  if (given === undefined) {
    const bytes = syntheticImageFor(
      spec,
      syntheticBytes === undefined ? { seed } : { seed, totalBytes: syntheticBytes },
    );
    return { firmware: new MemoryFirmware(new Map([[name, bytes]]), 'synthetic'), imageSource: 'synthetic' };
  }
  if (given instanceof Uint8Array) {
    // One file given directly: the driver finds it under its own name, as if installed.
    // The result's `image` describes the blob the driver picks; no need to scan the file here too.
    return {
      firmware: new MemoryFirmware(new Map([[name, given]]), 'given image file'),
      imageSource: 'given image file',
    };
  }
  return { firmware: given, imageSource: given.description };
}
