import { EBADR, EINVAL, EIO, EMSGSIZE, EPROTO, ETIMEDOUT } from '../kernel/errno.js';
import type { MachineSpecInput } from '../platform/machine-spec.js';
import {
  DEVICE_FAULT_KINDS,
  type DeviceFault,
  type DeviceFaultKind,
  type DeviceProfile,
} from '../platform/mailbox/config.js';
import { findPreset } from '../platform/presets.js';
import { Rng } from '../platform/rng.js';
import {
  type MachineFileInput,
  machineSpecInput,
  type PackageScoped,
  withOverrides,
} from '../sim/machine-input.js';
import { argsFromSimulateOptions, HZ_VALUES, STAGING_MODES } from '../sim/run-args.js';
import type { SimulateOptions } from '../sim/simulate.js';

// A campaign run is one point of a space the user gives, drawn from the run's
// own seed. Every point is expressible as `ucode-staging simulate` options
// (plus, for random machines and package flags, a machine file), so any run can
// be replayed exactly outside the campaign.

/** Package-level faults that are not device faults: no device / MSR 0x7a5 faults. */
export const PACKAGE_FAULT_KINDS = ['mailbox-absent', 'mailbox-msr-fault'] as const;
export type PackageFaultKind = (typeof PACKAGE_FAULT_KINDS)[number];
export type CampaignFaultKind = DeviceFaultKind | PackageFaultKind;
/** 'none': a run without an injected mailbox fault. */
export type FaultChoice = CampaignFaultKind | 'none';
export const ALL_FAULT_CHOICES: readonly FaultChoice[] = [
  'none',
  ...DEVICE_FAULT_KINDS,
  ...PACKAGE_FAULT_KINDS,
];

export const STAGING_POLICIES = STAGING_MODES;
export type StagingPolicy = (typeof STAGING_POLICIES)[number];
export { HZ_VALUES };
export type Hz = (typeof HZ_VALUES)[number];

/**
 * The errno the kernel returns when a fault ends a staging pass, and the line it
 * prints just before `Error: staging failed (...)` (docs/mailbox-device.md,
 * test/kernel/staging-faults.test.ts). ignore-abort has no errno of its own; a
 * respond fault's depends on what it answers (the invariant derives it from the
 * device's record); an MSR 0x7a5 fault stages at address 0, whose result depends
 * on what low memory holds.
 */
export const FAULT_ERRNO: Readonly<
  Record<Exclude<CampaignFaultKind, 'ignore-abort' | 'mailbox-msr-fault' | 'respond'>, number>
> = {
  'error-status': -EIO,
  'error-status-not-ready': -EIO,
  'never-ready': -ETIMEDOUT,
  'bad-header': -EBADR,
  'offset-past-end': -EINVAL,
  'response-error': -EPROTO,
  'rerequest-forever': -EMSGSIZE,
  // No device decodes the mailbox: STATUS reads all ones, READY and ERROR at once.
  'mailbox-absent': -EIO,
};

/** A machine choice: a built-in preset, or a small machine drawn at random. */
export type MachineChoice = { kind: 'preset'; name: string } | { kind: 'random' };

/** A device profile choice: a family with random parameters, or one exact profile. */
export type ProfileChoice =
  | { kind: 'family'; family: DeviceProfile['kind'] }
  | { kind: 'exact'; profile: DeviceProfile };

export type FaultPlacement = 'at' | 'probability';

export interface RandomMachineRange {
  maxPackages: number;
  maxCores: number;
  /** Thread counts to draw from (1, 2 or 4). */
  threads: readonly (1 | 2 | 4)[];
}

export interface CampaignSpace {
  machines: readonly MachineChoice[];
  random: RandomMachineRange;
  profiles: readonly ProfileChoice[];
  faults: readonly FaultChoice[];
  /** How a device fault is placed: at a transaction index, or with a per-transaction probability. */
  placements: readonly FaultPlacement[];
  probabilities: readonly number[];
  policies: readonly StagingPolicy[];
  /** The other policy knobs (src/kernel/policy.ts); the defaults are the kernel's. */
  budgets: readonly ('2x' | 'per-chunk')[];
  dedupes: readonly ('previous-package' | 'distinct')[];
  polls: readonly ('msleep' | 'fine')[];
  kernels: readonly ('6.12+' | 'pre-6.12')[];
  hz: readonly Hz[];
  /** Synthetic image size range in bytes (multiples of 4 are drawn). */
  imageBytes: { min: number; max: number };
  /** Share of runs with one CPU fault (apply-rejected, late-arrival, never-arrives). */
  cpuFaultRate: number;
  /** Share of runs with one CPU offline (a sibling is allowed; a primary makes the load -EBUSY). */
  offlineRate: number;
  /** Share of runs whose unstaged WRMSR 0x79 takes over a second (SMT siblings then panic). */
  slowApplyRate: number;
}

export const DEFAULT_SPACE: Readonly<CampaignSpace> = Object.freeze({
  machines: [{ kind: 'random' }],
  random: { maxPackages: 2, maxCores: 8, threads: [1, 2] },
  profiles: [
    { kind: 'family', family: 'ideal' },
    { kind: 'family', family: 'slow' },
    { kind: 'family', family: 'limited-cache' },
  ],
  faults: ALL_FAULT_CHOICES,
  placements: ['at', 'probability'],
  probabilities: [0.02, 0.1, 0.5],
  policies: STAGING_POLICIES,
  budgets: ['2x'],
  dedupes: ['previous-package'],
  polls: ['msleep'],
  kernels: ['6.12+'],
  hz: [250, 1000],
  imageBytes: { min: 8 * 1024, max: 64 * 1024 },
  cpuFaultRate: 0.1,
  offlineRate: 0.05,
  slowApplyRate: 0.02,
} satisfies CampaignSpace);

/** Signatures of the preset CPUs; a random machine takes one of them. */
const SIGNATURES = [0xa06d1, 0xa06f3, 0x806f8] as const;
/**
 * The most CPUs a machine of the model may have (machine-spec.ts refuses more).
 * A random machine is drawn within it: the range options allow 64 x 1024 x 4.
 */
export const MAX_MACHINE_CPUS = 65_536;
const CHUNK = 4096;
/** An unstaged WRMSR 0x79 base cost over the siblings' 1 s patience. */
export const SLOW_APPLY_BASE_NS = 1_200_000_000;

/** One drawn injected mailbox fault. */
export interface DrawnFault {
  kind: CampaignFaultKind;
  /** The package it is injected on; undefined = every package. */
  pkg: number | undefined;
  /** For device faults. */
  fault?: DeviceFault;
}

export interface DrawnCpuFault {
  cpu: number;
  kind:
    | 'never-arrives'
    | 'late-arrival'
    | 'apply-rejected'
    | 'late-to-stop-machine'
    | 'never-reaches-stop-machine';
  delayNs?: number;
}

/** Everything one run is, as data; `options` and `replayArgs` are derived from it. */
export interface DrawnRun {
  /** The run's seed: drawRun(space, seed) gives this run again; also the simulation seed. */
  seed: number;
  machine: { kind: 'preset'; name: string } | { kind: 'random'; spec: MachineSpecInput };
  packages: number;
  cpus: number;
  profile: DeviceProfile;
  fault: DrawnFault | undefined;
  policy: StagingPolicy;
  budget: '2x' | 'per-chunk';
  dedupe: 'previous-package' | 'distinct';
  poll: 'msleep' | 'fine';
  kernel: '6.12+' | 'pre-6.12';
  hz: Hz;
  imageBytes: number;
  offlineCpu: number | undefined;
  cpuFault: DrawnCpuFault | undefined;
  slowApply: boolean;
  /** Table row label: the injected mailbox fault kind, or 'none'. */
  faultLabel: FaultChoice;
  expectation: Expectation;
}

/** What the campaign expects from a run, before it runs. */
export interface Expectation {
  policy: StagingPolicy;
  /** Both enumeration bits set: the driver can stage. */
  stagingCapable: boolean;
  /** The fault's errno if it ends a staging pass (undefined when it has none). */
  faultErrno: number | undefined;
  /** The line the kernel prints before `Error: staging failed` for this fault, as a pattern. */
  faultLine: RegExp | undefined;
  /** Packages whose mailbox has the fault (empty when none). */
  faultPackages: number[];
}

/** The seed of run `index` of a campaign: independent streams per run. */
export function runSeed(campaignSeed: number, index: number): number {
  return new Rng(campaignSeed >>> 0).fork(index).nextU32();
}

/** Draw one run of the space, deterministically from its seed. */
export function drawRun(space: CampaignSpace, seed: number): DrawnRun {
  const rng = new Rng(seed >>> 0);
  const choice = rng.pick(space.machines);
  const machine: DrawnRun['machine'] =
    choice.kind === 'preset'
      ? { kind: 'preset', name: choice.name }
      : { kind: 'random', spec: randomMachine(rng, space.random, seed) };
  const spec = machine.kind === 'preset' ? presetInput(machine.name) : machine.spec;
  const packages = spec.packages;
  const cpus = packages * spec.coresPerPackage * spec.threadsPerCore;
  const imageBytes = 4 * rng.int(Math.ceil(space.imageBytes.min / 4), Math.floor(space.imageBytes.max / 4));
  const profile = drawProfile(rng, rng.pick(space.profiles));
  const faultLabel = rng.pick(space.faults);
  const fault = faultLabel === 'none' ? undefined : drawFault(rng, space, faultLabel, packages, imageBytes);
  const policy = rng.pick(space.policies);
  const hz = rng.pick(space.hz);
  // Drawn only when there is a choice, so the kernel-only space keeps its draws.
  const budget = space.budgets.length > 1 ? rng.pick(space.budgets) : space.budgets[0]!;
  const dedupe = space.dedupes.length > 1 ? rng.pick(space.dedupes) : space.dedupes[0]!;
  const poll = space.polls.length > 1 ? rng.pick(space.polls) : space.polls[0]!;
  const kernel = space.kernels.length > 1 ? rng.pick(space.kernels) : space.kernels[0]!;
  const offlineCpu = cpus > 1 && rng.chance(space.offlineRate) ? rng.int(1, cpus - 1) : undefined;
  const cpuFault = rng.chance(space.cpuFaultRate) ? drawCpuFault(rng, cpus, offlineCpu) : undefined;
  const slowApply = rng.chance(space.slowApplyRate);
  const stagingCapable = spec.staging.archCapMcuEnum && spec.staging.mcuStaging;
  const faultErrno =
    fault && fault.kind !== 'ignore-abort' && fault.kind !== 'mailbox-msr-fault' && fault.kind !== 'respond'
      ? FAULT_ERRNO[fault.kind]
      : undefined;
  return {
    seed: seed >>> 0,
    machine,
    packages,
    cpus,
    profile,
    fault,
    policy,
    budget,
    dedupe,
    poll,
    kernel,
    hz,
    imageBytes,
    offlineCpu,
    cpuFault,
    slowApply,
    faultLabel,
    expectation: {
      policy,
      stagingCapable,
      faultErrno,
      faultLine: fault ? faultLine(fault.kind, imageBytes) : undefined,
      faultPackages: fault ? (fault.pkg === undefined ? range(packages) : [fault.pkg]) : [],
    },
  };
}

function presetInput(name: string): MachineSpecInput {
  const preset = findPreset(name);
  if (!preset) throw new RangeError(`unknown machine preset '${name}'`);
  return preset;
}

function randomMachine(rng: Rng, r: RandomMachineRange, seed: number): MachineSpecInput {
  const capable = rng.chance(0.9);
  // A machine without staging: either bit may be the missing one.
  const archCapMcuEnum = capable || rng.chance(0.5);
  const packages = rng.int(1, r.maxPackages);
  const cores = rng.int(1, r.maxCores);
  const threads = rng.pick(r.threads);
  return {
    name: `random-${(seed >>> 0).toString(16).padStart(8, '0')}`,
    description: 'campaign: a small random machine',
    packages,
    // Within the model's CPU limit: a space's ranges may allow more (64 x 1024 x 4).
    coresPerPackage: Math.min(cores, Math.floor(MAX_MACHINE_CPUS / (packages * threads))),
    threadsPerCore: threads,
    signature: rng.pick(SIGNATURES),
    platformId: rng.int(0, 7),
    initialRevision: rng.int(1, 0x7fff_0000),
    staging: { archCapMcuEnum, mcuStaging: capable || (!archCapMcuEnum && rng.chance(0.5)) },
    numbering: {
      packages: rng.chance(0.25) ? 'interleaved' : 'package-major',
      smt: rng.chance(0.25) ? 'adjacent' : 'last',
    },
  };
}

function drawProfile(rng: Rng, choice: ProfileChoice): DeviceProfile {
  if (choice.kind === 'exact') return choice.profile;
  switch (choice.family) {
    case 'ideal':
      return { kind: 'ideal' };
    case 'slow':
      // Up to 5 ms per chunk: a few msleep(1) polls per transaction.
      return { kind: 'slow', chunkNs: rng.int(0, 5_000) * 1_000 };
    case 'limited-cache':
      return {
        kind: 'limited-cache',
        cacheChunks: rng.int(1, 8),
        rerequestProbability: rng.pick([0, 0, 0.1, 0.5, 1]),
        verifyPass: rng.chance(0.3),
        extraChunks: rng.pick([0, 0, 0, 1, 2]),
      };
  }
}

function drawFault(
  rng: Rng,
  space: CampaignSpace,
  kind: CampaignFaultKind,
  packages: number,
  imageBytes: number,
): DrawnFault {
  if (kind === 'mailbox-absent' || kind === 'mailbox-msr-fault')
    return { kind, pkg: rng.int(0, packages - 1) };
  const pkg = rng.chance(0.5) ? undefined : rng.int(0, packages - 1);
  const placement = rng.pick(space.placements);
  const chunks = Math.ceil(imageBytes / CHUNK);
  // Positions up to two past one pass: a fault may also never fire.
  const fault: DeviceFault =
    placement === 'at'
      ? { kind, atTransaction: rng.int(0, chunks + 1) }
      : { kind, probability: rng.pick(space.probabilities) };
  if (kind === 'respond') Object.assign(fault, drawScript(rng));
  return { kind, pkg, fault };
}

/**
 * One scripted answer: a next offset the protocol allows but a plain device
 * never gives, odd status or header bits, or odd timing (one of them, so each
 * run isolates one behaviour; the checks derive the host's errno from what the
 * device answered, not from this choice).
 */
function drawScript(rng: Rng): Partial<DeviceFault> {
  switch (rng.int(0, 5)) {
    case 0:
      return {
        offset: rng.pick([
          'len',
          'len+4',
          'len-2',
          'chunk',
          'chunk-4096',
          'chunk+2',
          'chunk+8192',
          4294967295,
          0,
        ]),
      };
    case 1:
      // The offset equal to the image length, for ever: do_stage() never ends.
      return { offset: 'len', sticky: true };
    case 2:
      return { status: rng.pick([0, 1, 3, 4, 7, 0xffff_ffff]) };
    case 3:
      return rng.chance(0.5) ? { headerHigh: rng.pick([0, 5, 0xffff_ffff]) } : { headerLow: 0x8086 };
    case 4:
      return { statusBits: rng.pick([0x8000_0004, 0x4, 0, 0x8000_0001, 0xffff_ffff]) };
    default:
      // Slower than the host's patience (10,000 msleep(1) at HZ=1000 is 10-20 s), or just slow.
      return { readyNs: rng.pick([25e9, 500e6, 3e6]) };
  }
}

/**
 * Late arrivals around the kernel's limits, to the 1 us step: 0.5 s for offline
 * siblings (which answer CPU 0's NMI 2 us after it is sent, the default cost
 * model's self-IPI: 499,997 us of delay checks in at step 499,999, 499,998 us at
 * 500,000, too late), 1 s for the rendezvous (arrivals differ by the delay alone).
 */
const LATE_ARRIVALS_NS = [
  50_000, 499_997_000, 499_998_000, 499_999_000, 500_000_000, 500_001_000, 999_998_000, 999_999_000,
  1_000_000_000, 1_000_001_000, 1_500_000_000,
];

function drawCpuFault(rng: Rng, cpus: number, offlineCpu: number | undefined): DrawnCpuFault {
  // An offline sibling can only be late to CPU 0's NMI (kick_offline_cpus(), 0.5 s): mostly it is the one.
  if (offlineCpu !== undefined && rng.chance(0.75)) {
    return rng.chance(0.8)
      ? { cpu: offlineCpu, kind: 'late-arrival', delayNs: rng.pick(LATE_ARRIVALS_NS) }
      : { cpu: offlineCpu, kind: 'never-arrives' };
  }
  const cpu = rng.int(0, cpus - 1);
  const roll = rng.next();
  if (roll < 0.5) return { cpu, kind: 'apply-rejected' };
  if (roll < 0.7) return { cpu, kind: 'late-arrival', delayNs: rng.pick(LATE_ARRIVALS_NS) };
  // Before stop_machine's barrier a late CPU holds everyone back; the load itself is unaffected.
  if (roll < 0.9) return { cpu, kind: 'late-to-stop-machine', delayNs: rng.pick(LATE_ARRIVALS_NS) };
  if (roll < 0.95) return { cpu, kind: 'never-reaches-stop-machine' };
  return { cpu, kind: 'never-arrives' };
}

function faultLine(kind: CampaignFaultKind, imageBytes: number): RegExp | undefined {
  if (kind === 'bad-header') return /^microcode: staging: invalid response header \(0x[0-9a-f]+\)$/;
  if (kind === 'offset-past-end') {
    return new RegExp(
      `^microcode: staging: invalid offset \\(\\d+\\) past the image end \\(${imageBytes}\\)$`,
    );
  }
  // The exception fixup's warning for the plain RDMSR (printed once, when the read faults).
  if (kind === 'mailbox-msr-fault') {
    return /^unchecked MSR access error: RDMSR from 0x7a5 at rIP: 0x\? \(__rdmsr_on_cpu\+0x\?\/0x\?\)$/;
  }
  return undefined;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

// ---- the run as simulate() options and as simulate CLI arguments ----

/** Package flags (no device, MSR fault) that only a machine file can carry. */
function packageFlags(run: DrawnRun): { mailboxAbsent?: boolean; mailboxMsrFault?: boolean }[] | undefined {
  const f = run.fault;
  if (!f || (f.kind !== 'mailbox-absent' && f.kind !== 'mailbox-msr-fault')) return undefined;
  const flags: { mailboxAbsent?: boolean; mailboxMsrFault?: boolean }[] = Array.from(
    { length: run.packages },
    () => ({}),
  );
  flags[f.pkg!] = f.kind === 'mailbox-absent' ? { mailboxAbsent: true } : { mailboxMsrFault: true };
  return flags;
}

/**
 * The machine file a replay needs, or undefined when a preset name is enough.
 * A preset with package flags is written as `extends` + `packageConfig`.
 */
export function replayMachineFile(run: DrawnRun): MachineFileInput | undefined {
  const flags = packageFlags(run);
  if (run.machine.kind === 'random')
    return flags ? { ...run.machine.spec, packageConfig: flags } : { ...run.machine.spec };
  return flags ? { extends: run.machine.name, packageConfig: flags } : undefined;
}

/** simulate() options for the run: small synthetic image, no trace, bounded virtual time. */
export function simulateOptions(run: DrawnRun, extra: Partial<SimulateOptions> = {}): SimulateOptions {
  const opts: SimulateOptions = {
    machine: replayMachineFile(run) ?? (run.machine as { name: string }).name,
    syntheticImageBytes: run.imageBytes,
    profiles: [{ value: run.profile }],
  };
  if (run.fault?.fault) opts.faults = [scoped(run.fault.pkg, run.fault.fault)];
  if (run.offlineCpu !== undefined) opts.offlineCpus = [run.offlineCpu];
  if (run.cpuFault) opts.cpuFaults = [{ ...run.cpuFault }];
  opts.cost = {
    hz: run.hz,
    kernelGeneration: run.kernel,
    ...(run.slowApply ? { applyUnstagedBaseNs: SLOW_APPLY_BASE_NS } : {}),
  };
  opts.policy = { staging: run.policy, budget: run.budget, dedupe: run.dedupe, poll: run.poll };
  opts.seed = run.seed;
  opts.trace = false;
  return { ...opts, ...extra };
}

function scoped<T>(pkg: number | undefined, value: T): PackageScoped<T> {
  return pkg === undefined ? { value } : { pkg, value };
}

/** The machine the run simulates, with its overrides laid over it (unvalidated). */
export function machineInput(run: DrawnRun): MachineSpecInput {
  const opts = simulateOptions(run);
  return withOverrides(machineSpecInput(opts.machine), opts);
}

/**
 * `ucode-staging simulate` arguments that replay the run exactly (the trace is
 * not part of the comparison: the campaign runs with trace off). `machineFile`
 * is where replayMachineFile(run) was written, when it is needed.
 */
export function replayArgs(run: DrawnRun, machineFile?: string): string[] {
  const refs = machineFile === undefined ? {} : { machine: machineFile };
  return ['simulate', ...argsFromSimulateOptions(simulateOptions(run), refs)];
}
