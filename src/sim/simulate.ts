import { fmsFileName } from '../format/index.js';
import { MicrocodeCore } from '../kernel/core.js';
import { type FirmwareSource, MemoryFirmware } from '../kernel/firmware.js';
import { IntelMicrocodeDriver } from '../kernel/intel/driver.js';
import { type Policy, type PolicyInput, PolicySchema } from '../kernel/policy.js';
import { KernelLog } from '../kernel/printk.js';
import { Tracer } from '../kernel/trace.js';
import { Machine } from '../platform/machine.js';
import type { MachineSpec } from '../platform/machine-spec.js';
import { MmioTraceRecorder } from '../platform/mmio-trace.js';
import { NS_PER_S } from '../time/clock.js';
import { numberIn, wholeNumber, z } from '../zod.js';
import { SimulationInputError } from './errors.js';
import { type MachineInput, type MachineOverrides, resolveMachine } from './machine-input.js';
import { buildResult } from './result.js';
import type { SimulationResult } from './result-types.js';
import { MAX_IMAGE_BYTES, MIN_IMAGE_BYTES } from './run-args.js';
import { syntheticImageFor } from './synthetic.js';

export { SimulationInputError } from './errors.js';
export { resolveMachine } from './machine-input.js';

export interface SimulateOptions extends MachineOverrides {
  /**
   * A preset name (see PRESETS), a machine description, or a machine file's
   * object with `"extends": "<preset>"`. Default: 'gnr-2s'. The overrides
   * (profiles, faults, offlineCpus, cpuFaults, cost) are laid over it.
   */
  machine?: MachineInput;
  /**
   * Where `intel-ucode/FF-MM-SS` comes from: a FirmwareSource (e.g. a folder, from
   * the CLI), or the bytes of one microcode file used whatever its name. Default:
   * a synthetic image of realistic size for the machine's CPU.
   */
  firmware?: FirmwareSource | Uint8Array;
  /** Size of the synthetic image used when no firmware is given. Default about 1.6 MB. */
  syntheticImageBytes?: number;
  policy?: PolicyInput;
  /** Seeds every random choice (device re-requests, probabilistic faults): 0..2^32-1. */
  seed?: number;
  /** Record spans and counters for the trace exporters and the HTML report. Default true. */
  trace?: boolean;
  /** Record every MMIO access for mmiotrace. Default false (it costs memory). */
  mmioTrace?: boolean;
  /** Virtual time of driver init and of the late load. Defaults: 1.5 s and 120 s after boot. */
  bootAtNs?: number;
  reloadAtNs?: number;
  /** Stop a run whose virtual time passes this absolute time (overrides timeLimitNs). */
  virtualTimeLimitNs?: number;
  /**
   * Virtual time the run may take after the reload write (default one hour); a
   * run past it throws SimulationLimitError. A legitimately slow run (a slow
   * device, HZ=100) needs a larger one.
   */
  timeLimitNs?: number;
  /** Progress of the staging step (the long part of runs that stage many times). */
  onStagingProgress?: (passesDone: number, passesPlanned: number) => void;
  /** Called with the machine after the run, for checks on hardware state (tests, campaigns). */
  onFinish?: (ctx: { machine: Machine; image: Uint8Array | undefined }) => void;
}

const virtualNs = numberIn(0, 1e18);
const callback = z.custom<(...args: never[]) => void>((f) => typeof f === 'function', 'expected a function');

/**
 * Everything simulate() takes. The machine, its overrides and the policy are
 * checked by their own schemas when they are resolved; here they are only
 * known names, so a misspelt option (`seeed`) is an error, not ignored.
 */
const RunOptionsSchema = z.strictObject({
  machine: z.optional(z.unknown()),
  policy: z.optional(z.unknown()),
  profiles: z.optional(z.unknown()),
  faults: z.optional(z.unknown()),
  offlineCpus: z.optional(z.unknown()),
  cpuFaults: z.optional(z.unknown()),
  cost: z.optional(z.unknown()),
  firmware: z.optional(
    z.custom<FirmwareSource | Uint8Array>(
      (f) =>
        f instanceof Uint8Array ||
        (typeof f === 'object' &&
          f !== null &&
          typeof (f as FirmwareSource).request === 'function' &&
          typeof (f as FirmwareSource).description === 'string'),
      'expected a Uint8Array or a FirmwareSource ({ request(name), description })',
    ),
  ),
  syntheticImageBytes: z.optional(wholeNumber(MIN_IMAGE_BYTES, MAX_IMAGE_BYTES)),
  seed: z.optional(wholeNumber(0, 0xffff_ffff)),
  trace: z.optional(z.boolean()),
  mmioTrace: z.optional(z.boolean()),
  bootAtNs: z.optional(virtualNs),
  reloadAtNs: z.optional(virtualNs),
  virtualTimeLimitNs: z.optional(virtualNs),
  timeLimitNs: z.optional(z.number().check(z.gt(0), z.maximum(1e18))),
  onStagingProgress: z.optional(callback),
  onFinish: z.optional(callback),
});

function checkRunOptions(opts: SimulateOptions): void {
  if (typeof opts !== 'object' || opts === null)
    throw new SimulationInputError('options: expected an object');
  const r = RunOptionsSchema.safeParse(opts);
  if (r.success) return;
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys')
    throw new SimulationInputError(`option '${issue.keys[0]}': unknown option`);
  throw new SimulationInputError(`option '${issue.path.join('.')}': ${issue.message}`);
}

/** Run one late load on an emulated machine and return everything it did. */
export function simulate(opts: SimulateOptions = {}): SimulationResult {
  checkRunOptions(opts);
  const spec = resolveMachine(opts.machine, opts);
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
    virtualTimeLimitNs: opts.virtualTimeLimitNs ?? reloadAtNs + (opts.timeLimitNs ?? 3600 * NS_PER_S),
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
  const revisionsBefore = new Uint32Array(topo.cpus);
  for (let cpu = 0; cpu < topo.cpus; cpu++) revisionsBefore[cpu] = machine.revisionOf(cpu);
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
    driver,
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
