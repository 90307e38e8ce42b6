import {
  checkBlob,
  effectiveTotalSize,
  type MicrocodeHeader,
  parseHeader,
  signatureMatches,
} from '../format/index.js';
import { NS_PER_US, VirtualClock } from '../time/clock.js';
import { applyCostNs, type CostModel, DEFAULT_COST_MODEL, msleepWakeTime } from '../time/cost-model.js';
import { MmioBus } from './bus.js';
import { type CpuAvailability, CrossCallFault, type HostPort, MsrFault } from './host-port.js';
import { type MachineSpec, type PackageConfig, PackageConfigSchema } from './machine-spec.js';
import { MailboxDevice } from './mailbox/device.js';
import { sameWords } from './mailbox/shared-images.js';
import { PhysicalMemory } from './memory.js';
import { Rng } from './rng.js';
import { buildTopology, type Topology } from './topology.js';

export const MSR_IA32_PLATFORM_ID = 0x17;
export const MSR_IA32_UCODE_WRITE = 0x79;
export const MSR_IA32_MCU_ENUMERATION = 0x7b;
export const MSR_IA32_UCODE_REV = 0x8b;
export const MSR_IA32_ARCH_CAPABILITIES = 0x10a;
export const MSR_IA32_MCU_STAGING_MBOX_ADDR = 0x7a5;

const ARCH_CAP_MCU_ENUM = 1n << 16n;
const MCU_STAGING = 1n << 4n;
/** Size of the mailbox's register window. */
export const MAILBOX_WINDOW = 16;

/** The run exceeded its virtual-time budget: a guard against a model that would never end. */
export class SimulationLimitError extends Error {
  override name = 'SimulationLimitError';
}

/** What one core's WRMSR 0x79 did, for the result and the trace. */
export interface CoreApplyRecord {
  cpu: number;
  core: number;
  startNs: number;
  endNs: number;
  /** The revision written, from the image's header. */
  revision: number;
  outcome: 'updated' | 'rejected';
  /** Why the CPU refused the image. */
  reason?: string;
  /** Whether the package's completed staged copy was used (activation only). */
  staged: boolean;
}

/**
 * The emulated machine: CPUs with their MSRs, each core's microcode engine,
 * physical memory, the MMIO bus and one staging mailbox per package.
 * It implements HostPort, the only surface the kernel model uses.
 */
export class Machine implements HostPort, CpuAvailability {
  readonly clock: VirtualClock;
  readonly cost: CostModel;
  readonly topology: Topology;
  readonly bus: MmioBus;
  readonly memory = new PhysicalMemory();
  readonly devices: (MailboxDevice | undefined)[];
  readonly packageConfig: PackageConfig[];
  readonly online: Uint8Array;
  readonly applyLog: CoreApplyRecord[] = [];

  private readonly coreRevision: Uint32Array;
  private readonly timeLimitNs: number;
  private readonly latchedRevision: Uint32Array;
  private readonly rejectingCores = new Set<number>();
  private readonly stalls = new Map<number, number>();
  private readonly stopMachineDelays = new Map<number, number>();
  /** Physical 0x0-0xf: firmware-reserved low memory (not System RAM: ioremap() maps it). */
  readonly lowMemory: Uint32Array;
  private readonly cpuPlatformFlags: number;
  /** MSR 0x17's value, the same on every CPU (a BigInt made once, not per read). */
  private readonly platformIdMsr: bigint;

  constructor(
    readonly spec: MachineSpec,
    opts: { seed?: number; startNs?: number; virtualTimeLimitNs?: number } = {},
  ) {
    this.timeLimitNs = opts.virtualTimeLimitNs ?? Number.POSITIVE_INFINITY;
    this.cost = { ...DEFAULT_COST_MODEL, ...spec.cost };
    this.clock = new VirtualClock(opts.startNs ?? 0);
    this.topology = buildTopology(spec);
    this.bus = new MmioBus(this.clock, this.cost);
    const cpus = this.topology.cpus;
    this.online = new Uint8Array(cpus).fill(1);
    for (const cpu of spec.offlineCpus) this.online[cpu] = 0;
    this.coreRevision = new Uint32Array(spec.packages * spec.coresPerPackage).fill(spec.initialRevision);
    this.latchedRevision = new Uint32Array(cpus);
    this.cpuPlatformFlags = 1 << spec.platformId;
    this.platformIdMsr = BigInt(spec.platformId) << 50n;
    for (const f of spec.cpuFaults) {
      switch (f.kind) {
        case 'apply-rejected':
          this.rejectingCores.add(this.topology.coreOf[f.cpu]!);
          break;
        case 'never-arrives':
          this.stalls.set(f.cpu, Number.POSITIVE_INFINITY);
          break;
        case 'late-arrival':
          this.stalls.set(f.cpu, f.delayNs ?? 0);
          break;
        case 'never-reaches-stop-machine':
          this.stopMachineDelays.set(f.cpu, Number.POSITIVE_INFINITY);
          break;
        case 'late-to-stop-machine':
          this.stopMachineDelays.set(f.cpu, f.delayNs ?? 0);
          break;
      }
    }
    this.bus.setUndecodedRead(spec.mailbox.undecodedRead);
    this.lowMemory = Uint32Array.from(spec.lowMemory);
    this.bus.attachReserved(0, this.lowMemory);

    const rng = new Rng(opts.seed ?? 1);
    this.packageConfig = [];
    this.devices = [];
    // Packages the spec does not configure share one default configuration (read only).
    const defaults =
      spec.packageConfig.length < spec.packages
        ? PackageConfigSchema.parse({}, { jitless: true })
        : undefined;
    for (let p = 0; p < spec.packages; p++) {
      const config = spec.packageConfig[p] ?? defaults!;
      this.packageConfig.push(config);
      const deviceRng = rng.fork(p);
      if (!this.hasStaging() || config.mailboxAbsent) {
        this.devices.push(undefined);
        continue;
      }
      const device = new MailboxDevice({
        clock: this.clock,
        cost: this.cost,
        profile: config.profile,
        faults: config.faults,
        rng: deviceRng,
        packageId: p,
      });
      this.bus.attach(this.mailboxAddress(p), MAILBOX_WINDOW, device);
      this.devices.push(device);
    }
  }

  hasStaging(): boolean {
    return this.spec.staging.archCapMcuEnum && this.spec.staging.mcuStaging;
  }

  mailboxAddress(pkg: number): number {
    return this.spec.mailbox.base + pkg * this.spec.mailbox.stride;
  }

  /** The revision a CPU's core runs now (what sysfs would show after a revision read). */
  revisionOf(cpu: number): number {
    return this.coreRevision[this.topology.coreOf[cpu]!]!;
  }

  stallNs(cpu: number): number {
    return this.stalls.size === 0 ? 0 : (this.stalls.get(cpu) ?? 0);
  }

  stopMachineDelayNs(cpu: number): number {
    return this.stopMachineDelays.size === 0 ? 0 : (this.stopMachineDelays.get(cpu) ?? 0);
  }

  // --- HostPort ---------------------------------------------------------

  now(): number {
    return this.clock.now;
  }

  runAt(t: number): void {
    this.clock.now = t;
  }

  rdmsr(cpu: number, msr: number): bigint {
    this.clock.now += this.cost.msrAccessNs;
    switch (msr) {
      case MSR_IA32_PLATFORM_ID:
        return this.platformIdMsr;
      case MSR_IA32_ARCH_CAPABILITIES:
        return this.spec.staging.archCapMcuEnum ? ARCH_CAP_MCU_ENUM : 0n;
      case MSR_IA32_MCU_ENUMERATION:
        if (!this.spec.staging.archCapMcuEnum) break;
        return this.spec.staging.mcuStaging ? MCU_STAGING : 0n;
      case MSR_IA32_UCODE_REV:
        return this.revisionMsr(this.latchedRevision[cpu]!);
      case MSR_IA32_MCU_STAGING_MBOX_ADDR: {
        const pkg = this.topology.packageOf[cpu]!;
        if (!this.hasStaging() || this.packageConfig[pkg]!.mailboxMsrFault) break;
        return BigInt(this.mailboxAddress(pkg));
      }
    }
    throw new MsrFault(cpu, msr, false);
  }

  wrmsr(cpu: number, msr: number, value: bigint): void {
    switch (msr) {
      case MSR_IA32_UCODE_REV:
        this.clock.now += this.cost.msrAccessNs;
        // The SDM's read sequence: clear, CPUID(1), then read; a stale value stays 0.
        this.latchedRevision[cpu] = 0;
        return;
      case MSR_IA32_UCODE_WRITE:
        this.loadUpdate(cpu, Number(value));
        return;
    }
    this.clock.now += this.cost.msrAccessNs;
    throw new MsrFault(cpu, msr, true);
  }

  cpuidEax(cpu: number, leaf: number): number {
    this.clock.now += this.cost.revisionReadNs;
    if (leaf === 1) {
      this.latchedRevision[cpu] = this.revisionOf(cpu);
      return this.spec.signature;
    }
    return 0;
  }

  rdmsrOnCpu(cpu: number, msr: number): bigint {
    if (this.online[cpu] !== 1) throw new CrossCallFault(cpu);
    this.clock.now += this.cost.crossCallNs;
    return this.rdmsr(cpu, msr);
  }

  currentTask(): { cpu: number; pid: number } {
    return this.spec.reloadTask;
  }

  ioremap(pa: number, size: number): number {
    return this.bus.ioremap(pa, size);
  }

  iounmap(va: number): void {
    this.bus.iounmap(va);
  }

  readl(va: number): number {
    return this.bus.readl(va);
  }

  writel(value: number, va: number): void {
    this.bus.writel(value, va);
  }

  writesl(va: number, src: Uint32Array, from: number, count: number): void {
    this.bus.writesl(va, src, from, count);
  }

  placeBuffer(bytes: Uint8Array): number {
    return this.memory.place(bytes);
  }

  releaseBuffer(pa: number): void {
    this.memory.release(pa);
  }

  msleep(ms: number): void {
    this.clock.now = msleepWakeTime(this.clock.now, ms, this.cost);
    this.checkLimit();
  }

  udelay(us: number): void {
    this.clock.now += us * NS_PER_US;
    this.checkLimit();
  }

  spin(ns: number): void {
    this.clock.now += ns;
    this.checkLimit();
  }

  private lastRevision = -1;
  private lastRevisionMsr = 0n;
  private otherRevision = -1;
  private otherRevisionMsr = 0n;

  /**
   * MSR 0x8b's value for a revision. Every CPU reads one of a few: a late load
   * reads the old and the new revision in turn on each core, so the last two
   * BigInts are kept.
   */
  private revisionMsr(revision: number): bigint {
    if (revision === this.lastRevision) return this.lastRevisionMsr;
    if (revision === this.otherRevision) {
      this.otherRevision = this.lastRevision;
      const msr = this.otherRevisionMsr;
      this.otherRevisionMsr = this.lastRevisionMsr;
      this.lastRevision = revision;
      this.lastRevisionMsr = msr;
      return msr;
    }
    this.otherRevision = this.lastRevision;
    this.otherRevisionMsr = this.lastRevisionMsr;
    this.lastRevision = revision;
    this.lastRevisionMsr = BigInt(revision) << 32n;
    return this.lastRevisionMsr;
  }

  /** Every wait loop sleeps or spins, so checking here bounds every loop. */
  private checkLimit(): void {
    if (this.clock.now > this.timeLimitNs) {
      throw new SimulationLimitError(
        `virtual time passed ${this.timeLimitNs / 1e9} s (a longer run needs a larger time limit: --time-limit, or timeLimitNs)`,
      );
    }
  }

  // --- the microcode engine -------------------------------------------

  /**
   * WRMSR 0x79: the address points at the update data; the header is the 48
   * bytes before it (Linux passes mc->bits). The core checks the image as the
   * processor would and updates every thread of the core, or changes nothing.
   */
  private loadUpdate(cpu: number, dataAddress: number): void {
    const core = this.topology.coreOf[cpu]!;
    const startNs = this.clock.now;
    const target = this.applyTarget(dataAddress);
    if (target === undefined) {
      this.clock.now += this.cost.revisionReadNs;
      this.recordApply(cpu, core, startNs, 0, 'rejected', false, 'no image at the address');
      return;
    }
    const { header, total, image, verdict } = target;
    let reason: string | undefined;
    let staged = false;
    if (image === undefined) {
      this.clock.now += this.cost.revisionReadNs;
      reason = 'image extends past its buffer';
    } else if (verdict === 'corrupt') {
      this.clock.now += applyCostNs(this.cost, total, false);
      reason = 'image failed authentication';
    } else if (verdict === 'other-cpu') {
      this.clock.now += this.cost.revisionReadNs;
      reason = 'signature or platform does not match';
    } else {
      staged = this.stagedCopyMatches(this.topology.packageOf[cpu]!, image);
      this.clock.now += applyCostNs(this.cost, total, staged);
      if (this.rejectingCores.has(core)) reason = 'core rejected the update (injected)';
      else if (header.revision <= this.coreRevision[core]!) reason = 'revision not newer';
    }
    if (reason !== undefined) {
      this.recordApply(cpu, core, startNs, header.revision, 'rejected', staged, reason);
      return;
    }
    this.coreRevision[core] = header.revision;
    this.recordApply(cpu, core, startNs, header.revision, 'updated', staged);
  }

  /**
   * What a WRMSR 0x79 to `dataAddress` finds: the header, the image and the
   * check's verdict; undefined when no header is there. Placed buffers never
   * change, so the last answer holds until memory is placed or released (every
   * core of a load writes the same address).
   */
  private applyTarget(dataAddress: number): ApplyTarget | undefined {
    const last = this.lastTarget;
    if (last !== undefined && last.address === dataAddress && last.generation === this.memory.generation)
      return last;
    const headerBytes = this.memory.view(dataAddress - 48, 48);
    if (!headerBytes) return undefined;
    const header = parseHeader(headerBytes);
    const total = effectiveTotalSize(header);
    const image = this.memory.view(dataAddress - 48, total);
    const target: ApplyTarget = {
      address: dataAddress,
      generation: this.memory.generation,
      header,
      total,
      image,
      verdict: image === undefined ? 'corrupt' : this.checkImage(image),
    };
    this.lastTarget = target;
    return target;
  }

  private lastTarget: ApplyTarget | undefined = undefined;

  /**
   * Every core checks the image it is given; the bytes of a placed buffer never
   * change, so the verdict is computed once per image location, not per core.
   */
  private readonly imageVerdicts = new WeakMap<
    ArrayBufferLike,
    Map<string, 'ok' | 'corrupt' | 'other-cpu'>
  >();

  private checkImage(image: Uint8Array): 'ok' | 'corrupt' | 'other-cpu' {
    let byBuffer = this.imageVerdicts.get(image.buffer);
    if (!byBuffer) {
      byBuffer = new Map();
      this.imageVerdicts.set(image.buffer, byBuffer);
    }
    const key = `${image.byteOffset}:${image.length}`;
    let verdict = byBuffer.get(key);
    if (verdict === undefined) {
      try {
        const blob = checkBlob(image, 0, 0);
        verdict = signatureMatches(blob, {
          signature: this.spec.signature,
          platformFlags: this.cpuPlatformFlags,
        })
          ? 'ok'
          : 'other-cpu';
      } catch {
        verdict = 'corrupt';
      }
      byBuffer.set(key, verdict);
    }
    return verdict;
  }

  /**
   * Whether a staged copy (its bytes view: packages that staged one image share
   * it, mailbox/shared-images.ts) equals the image a core was given, for the
   * last image compared with it: the bytes are compared once, not per core or
   * per package.
   */
  private readonly stagedMatches = new WeakMap<Uint8Array, { image: Uint8Array; same: boolean }>();
  private lastMatch: { staged: Uint8Array; image: Uint8Array; same: boolean } | undefined = undefined;

  /** Rules (a)-(c): only a completed stage of exactly this image makes the load cheap. */
  private stagedCopyMatches(pkg: number, image: Uint8Array): boolean {
    const device = this.devices[pkg];
    const staged = device?.stagedImage();
    if (!device || !staged || device.inProgress()) return false;
    // Every core of a load asks about the same pair: the last answer first.
    const last = this.lastMatch;
    if (last !== undefined && last.staged === staged && last.image === image) return last.same;
    const known = this.stagedMatches.get(staged);
    const same = known !== undefined && known.image === image ? known.same : bytesEqual(staged, image);
    if (known === undefined || known.image !== image) this.stagedMatches.set(staged, { image, same });
    this.lastMatch = { staged, image, same };
    return same;
  }

  private recordApply(
    cpu: number,
    core: number,
    startNs: number,
    revision: number,
    outcome: CoreApplyRecord['outcome'],
    staged: boolean,
    reason?: string,
  ): void {
    const rec: CoreApplyRecord = { cpu, core, startNs, endNs: this.clock.now, revision, outcome, staged };
    if (reason !== undefined) rec.reason = reason;
    this.applyLog.push(rec);
  }
}

interface ApplyTarget {
  address: number;
  generation: number;
  header: MicrocodeHeader;
  total: number;
  /** Undefined when the image extends past its buffer. */
  image: Uint8Array | undefined;
  verdict: 'ok' | 'corrupt' | 'other-cpu';
}

/** Whether two byte ranges are equal (exported for tests). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const n = a.length;
  const dwords = n >>> 2;
  // Dword by dword (two at a time where both are 8-byte aligned) when both views
  // are dword aligned (the staged copy always is), then the tail bytes.
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    const wa = new Uint32Array(a.buffer, a.byteOffset, dwords);
    const wb = new Uint32Array(b.buffer, b.byteOffset, dwords);
    if (!sameWords(wa, 0, wb, 0, dwords)) return false;
    for (let i = dwords * 4; i < n; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
