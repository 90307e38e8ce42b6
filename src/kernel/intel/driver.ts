import {
  decodeSignature,
  type FormatErrorKind,
  fmsFileName,
  type MicrocodeBlob,
  selectForLateLoad,
} from '../../format/index.js';
import { CrossCallFault, type HostPort, MsrFault } from '../../platform/host-port.js';
import { EOPNOTSUPP } from '../errno.js';
import type { FirmwareSource } from '../firmware.js';
import type { CpuSignature, MicrocodeOps, StagingOutcome, UcodeState } from '../ops.js';
import { type Policy, stagingPolicyChanges } from '../policy.js';
import type { KernelLog, LogLevel, LogLine, LogMark } from '../printk.js';
import { KernelDoesNotTerminate } from '../stuck.js';
import type { Tracer } from '../trace.js';
import { doStage, doStageSteps, INTEL_C, type StagingContext } from './staging.js';
import { newPackageStaging, type PackageStaging, type StagingReport } from './staging-report.js';

const MSR_IA32_PLATFORM_ID = 0x17;
const MSR_IA32_UCODE_WRITE = 0x79;
const MSR_IA32_MCU_ENUMERATION = 0x7b;
const MSR_IA32_UCODE_REV = 0x8b;
const MSR_IA32_ARCH_CAPABILITIES = 0x10a;
const MSR_IA32_MCU_STAGING_MBOX_ADDR = 0x7a5;
const ARCH_CAP_MCU_ENUM = 1n << 16n;
const MCU_STAGING = 1n << 4n;
const MC_HEADER_SIZE = 48;

/**
 * The printk level of each check's message in intel.c: pr_err everywhere
 * except the extended table checksum, which intel_microcode_sanity_check()
 * prints with pr_warn.
 */
const FORMAT_ERROR_LEVEL: Readonly<Record<FormatErrorKind, LogLevel>> = {
  'truncated-header': 'err',
  'totalsize-too-small': 'err',
  'truncated-file': 'err',
  'bad-size': 'err',
  'bad-header-version': 'err',
  'ext-table-truncated': 'err',
  'ext-table-size-mismatch': 'err',
  'ext-table-checksum': 'warn',
  'data-checksum': 'err',
  'ext-signature-checksum': 'err',
};

/** Where the CPUs are, as the topology code tells the driver. */
export interface TopologyView {
  cpus: number;
  isPrimary(cpu: number): boolean;
  packageOf(cpu: number): number;
}

export interface IntelDriverOptions {
  port: HostPort;
  log: KernelLog;
  tracer: Tracer;
  policy: Policy;
  topology: TopologyView;
  firmware: FirmwareSource;
  /** Called after each package is staged (runs with many passes take a while). */
  onStagingProgress?: (passesDone: number, passesPlanned: number) => void;
}

/** Linux's Intel microcode driver (intel.c) against the HostPort. */
export class IntelMicrocodeDriver implements MicrocodeOps {
  readonly nmiSafe = false;
  readonly useNmi = true;
  useStaging = false;

  /** The image chosen for the late load (ucode_patch_late), where it sits in memory, and WRMSR 0x79's value. */
  private patch: { blob: MicrocodeBlob; pa: number; words: Uint32Array; writeValue: bigint } | undefined;
  /**
   * Each CPU's struct cpu_signature (ucode_cpu_info), one typed array a field:
   * an object per CPU costs more than the per-CPU work on large machines.
   */
  private readonly sigCollected: Uint8Array;
  private readonly sigSignature: Uint32Array;
  private readonly sigPlatformFlags: Uint32Array;
  private readonly sigRevision: Uint32Array;
  /** The last two MSR 0x8b values read and their revisions: every CPU reads one of a few values. */
  private lastRevMsr = -1n;
  private lastRev = 0;
  private otherRevMsr = -1n;
  private otherRev = 0;
  /** The same for CPUID(1) (whether the CPU has MSR 0x17) and MSR 0x17: one value on a machine. */
  private lastSignature = -1;
  private lastHasPlatformId = false;
  private lastPlatformMsr = -1n;
  private lastPlatformFlags = 0;
  /** The staging of the late load in progress (cleared by its firmware request); the result reads it. */
  private staging: StagingReport | undefined;
  /** boot_cpu_data.microcode. */
  bootRevision = 0;

  constructor(private readonly o: IntelDriverOptions) {
    const n = o.topology.cpus;
    this.sigCollected = new Uint8Array(n);
    this.sigSignature = new Uint32Array(n);
    this.sigPlatformFlags = new Uint32Array(n);
    this.sigRevision = new Uint32Array(n);
  }

  /** init_intel_microcode(): staging enumeration. */
  init(): void {
    if (this.o.policy.staging !== 'off' && this.stagingAvailable()) {
      this.useStaging = true;
      this.o.log.prInfo('Enabled staging feature.');
    }
  }

  private stagingAvailable(): boolean {
    const { port } = this.o;
    let caps: bigint;
    try {
      caps = port.rdmsr(0, MSR_IA32_ARCH_CAPABILITIES);
    } catch {
      return false;
    }
    if (!(caps & ARCH_CAP_MCU_ENUM)) return false;
    return (port.rdmsr(0, MSR_IA32_MCU_ENUMERATION) & MCU_STAGING) !== 0n;
  }

  /** intel_get_microcode_revision(): the SDM's sequence, or the read gives a stale 0. */
  private readRevision(cpu: number): number {
    const { port } = this.o;
    port.wrmsr(cpu, MSR_IA32_UCODE_REV, 0n);
    port.cpuidEax(cpu, 1);
    const msr = port.rdmsr(cpu, MSR_IA32_UCODE_REV);
    // Comparing BigInts allocates nothing; shifting one does. A late load reads
    // the old and the new revision in turn, so the last two are kept.
    if (msr === this.lastRevMsr) return this.lastRev;
    const rev = msr === this.otherRevMsr ? this.otherRev : Number(msr >> 32n);
    this.otherRevMsr = this.lastRevMsr;
    this.otherRev = this.lastRev;
    this.lastRevMsr = msr;
    this.lastRev = rev;
    return rev;
  }

  collectCpuInfo(cpu: number): CpuSignature {
    const { port } = this.o;
    const signature = port.cpuidEax(cpu, 1);
    if (signature !== this.lastSignature) {
      const { family, model } = decodeSignature(signature);
      this.lastSignature = signature;
      this.lastHasPlatformId = model >= 5 || family > 6;
    }
    let platformFlags = 0;
    if (this.lastHasPlatformId) {
      const msr = port.rdmsr(cpu, MSR_IA32_PLATFORM_ID);
      if (msr !== this.lastPlatformMsr) {
        this.lastPlatformMsr = msr;
        this.lastPlatformFlags = 1 << Number((msr >> 50n) & 7n);
      }
      platformFlags = this.lastPlatformFlags;
    }
    const revision = this.readRevision(cpu);
    this.sigCollected[cpu] = 1;
    this.sigSignature[cpu] = signature;
    this.sigPlatformFlags[cpu] = platformFlags;
    this.sigRevision[cpu] = revision;
    if (cpu === 0) this.bootRevision = revision;
    return { signature, platformFlags, revision };
  }

  requestMicrocodeFw(cpu: number): UcodeState {
    const { log } = this.o;
    this.staging = undefined;
    const sig =
      this.sigCollected[cpu] === 1
        ? { signature: this.sigSignature[cpu]!, platformFlags: this.sigPlatformFlags[cpu]! }
        : this.collectCpuInfo(cpu);
    const name = `intel-ucode/${fmsFileName(sig.signature)}`;
    const data = this.o.firmware.request(name);
    if (!data) return 'not-found';
    const { outcome, blob, messages, error } = selectForLateLoad(
      data,
      { signature: sig.signature, platformFlags: sig.platformFlags, revision: this.bootRevision },
      { forceMinrev: this.o.policy.forceMinrev },
    );
    // The walk stops at the first rejected blob, so its check's line is the last one;
    // every line before it comes from ucode_validate_minrev(), which uses pr_info.
    const minrevLines = error ? messages.length - 1 : messages.length;
    for (let i = 0; i < minrevLines; i++) log.prInfo(messages[i]!);
    if (error) log.pr(FORMAT_ERROR_LEVEL[error.kind], error.kernelMessage);
    if (outcome === 'error') return 'error';
    if (!blob) return 'not-found';
    this.setPatch(blob);
    return outcome === 'new-safe' ? 'new-safe' : 'new';
  }

  private setPatch(blob: MicrocodeBlob): void {
    this.releasePatch();
    // The kernel keeps its own copy (kvmalloc); copy only when the view cannot be read as dwords.
    const bytes = blob.bytes.byteOffset % 4 === 0 ? blob.bytes : blob.bytes.slice();
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
    const pa = this.o.port.placeBuffer(bytes);
    this.patch = { blob: { ...blob, bytes }, pa, words, writeValue: BigInt(pa + MC_HEADER_SIZE) };
  }

  private releasePatch(): void {
    if (this.patch) this.o.port.releaseBuffer(this.patch.pa);
    this.patch = undefined;
  }

  pendingRevision(): number | undefined {
    return this.patch?.blob.header.revision;
  }

  pendingImage(): MicrocodeBlob | undefined {
    return this.patch?.blob;
  }

  /** apply_microcode_late() on `cpu`. */
  applyMicrocode(cpu: number): UcodeState {
    const mc = this.patch;
    if (!mc) return 'not-found';
    const { port } = this.o;
    const curRev = this.readRevision(cpu);
    // The sibling thread may already have updated the core: skip the costly WRMSR.
    if (curRev >= mc.blob.header.revision) {
      this.noteRevision(cpu, curRev);
      return 'ok';
    }
    port.wrmsr(cpu, MSR_IA32_UCODE_WRITE, mc.writeValue);
    const rev = this.readRevision(cpu);
    if (rev !== mc.blob.header.revision) return 'error';
    this.noteRevision(cpu, rev);
    return 'updated';
  }

  private noteRevision(cpu: number, rev: number): void {
    // A CPU not collected before gets signature 0 and platform flags 0 with it.
    this.sigCollected[cpu] = 1;
    this.sigRevision[cpu] = rev;
    if (cpu === 0) this.bootRevision = rev;
  }

  finalizeLateLoad(failed: boolean): void {
    if (failed) this.releasePatch();
  }

  /**
   * The primary threads that will stage, in CPU order. The kernel compares each
   * package with the previous primary's only, which assumes CPUs are numbered
   * package by package; 'distinct' stages each package once whatever the order.
   */
  private stagingPasses(): { cpu: number; pkg: number }[] {
    const { topology, policy } = this.o;
    const passes: { cpu: number; pkg: number }[] = [];
    const seen = new Set<number>();
    let pkgId = -1;
    for (let cpu = 0; cpu < topology.cpus; cpu++) {
      if (!topology.isPrimary(cpu)) continue;
      const pkg = topology.packageOf(cpu);
      if (policy.dedupe === 'previous-package' ? pkg === pkgId : seen.has(pkg)) continue;
      pkgId = pkg;
      seen.add(pkg);
      passes.push({ cpu, pkg });
    }
    return passes;
  }

  /** How the current late load staged; undefined when it did not reach staging. */
  stagingReport(): StagingReport | undefined {
    return this.staging;
  }

  /**
   * stage_microcode(): one mailbox per package, one package after the other
   * (policy stage-order=parallel: all packages at once).
   */
  stageMicrocode(): StagingOutcome {
    const { port, log, policy, tracer } = this.o;
    const mc = this.patch!;
    const len = mc.blob.totalSize;
    const report: StagingReport = {
      attempted: true,
      ok: false,
      errno: 0,
      packages: [],
      startNs: port.now(),
      endNs: 0,
    };
    this.staging = report;
    if (len % 4 !== 0) {
      log.prErr(`Microcode image 32-bit misaligned (0x${len.toString(16)}), staging failed.`);
      report.errno = -EOPNOTSUPP;
      report.reason = 'misaligned';
      return this.finishStaging(report);
    }
    const run: StagingRun = {
      ctx: { port, log, tracer, policy, words: mc.words, ucodeLen: len },
      report,
      passes: this.stagingPasses(),
      revision: mc.blob.header.revision,
      // Lines the kernel prints as they are, from a staging step that is not the kernel's.
      mark: stagingMark(policy),
    };
    return policy.stageOrder === 'parallel' ? this.stageParallel(run) : this.stageSerial(run);
  }

  private finishStaging(report: StagingReport): StagingOutcome {
    report.endNs = this.o.port.now();
    return report;
  }

  /** The kernel's walk: each pass in turn; the first failure ends staging. */
  private stageSerial(run: StagingRun): StagingOutcome {
    const { report, passes } = run;
    for (const { cpu, pkg } of passes) {
      const mailbox = this.readMailbox(run, cpu, pkg);
      if (!mailbox) return this.finishStaging(report);
      let rec: PackageStaging;
      try {
        rec = this.stagePass(run, cpu, pkg, mailbox);
      } catch (e) {
        if (e instanceof KernelDoesNotTerminate) {
          report.reason = 'does-not-terminate';
          report.failedCpu = cpu;
          report.failedPackage = pkg;
          this.finishStaging(report);
        }
        throw e;
      }
      this.o.onStagingProgress?.(report.packages.length, passes.length);
      if (rec.errno) {
        this.stagingFailed(run, rec);
        return this.finishStaging(report);
      }
    }
    this.stagingSucceeded(run);
    return this.finishStaging(report);
  }

  /**
   * Policy stage-order=parallel: the walk reads every pass's mailbox address
   * first (the same cross-calls, one after another), then hands each package
   * its own worker and waits for all of them. Workers run at the same virtual
   * time: the one furthest behind goes on by one transaction, so the mailboxes'
   * accesses and the log come in time order; a package staged more than once
   * (the kernel's dedupe on interleaved numbering) has its passes one after
   * another on its worker. The earliest failure in time is the one reported; a
   * worker stops at its own package's failure only.
   */
  private stageParallel(run: StagingRun): StagingOutcome {
    const { port, log } = this.o;
    const { report, passes } = run;
    const byPkg = new Map<number, Worker>();
    for (const { cpu, pkg } of passes) {
      const pa = this.readMailbox(run, cpu, pkg);
      if (!pa) return this.finishStaging(report);
      let w = byPkg.get(pkg);
      if (!w) {
        w = { pkg, queue: [], atNs: 0, current: undefined };
        byPkg.set(pkg, w);
      }
      w.queue.push({ cpu, mailbox: pa });
    }
    const firstLine = log.lines.length;
    const startNs = port.now();
    const workers = [...byPkg.values()];
    for (const w of workers) w.atNs = startNs;
    let failed: PackageStaging | undefined;
    let never: { stuck: KernelDoesNotTerminate; rec: PackageStaging } | undefined;
    for (;;) {
      let w: Worker | undefined;
      for (const x of workers) if ((x.current || x.queue.length > 0) && (!w || x.atNs < w.atNs)) w = x;
      if (!w) break;
      port.runAt(w.atNs);
      if (!w.current) {
        const next = w.queue.shift()!;
        const rec = newPackageStaging(w.pkg, next.cpu, next.mailbox.pa, port.now());
        if (next.mailbox.msrFault) rec.msrFault = true;
        report.packages.push(rec);
        w.current = { rec, steps: doStageSteps(run.ctx, next.mailbox.pa, rec) };
      }
      const { rec, steps } = w.current;
      let step: IteratorResult<void, number>;
      try {
        step = steps.next();
      } catch (e) {
        if (!(e instanceof KernelDoesNotTerminate)) throw e;
        // This worker never finishes, so neither does the wait for it.
        rec.endNs = port.now();
        never ??= { stuck: e, rec };
        w.current = undefined;
        w.queue.length = 0;
        continue;
      }
      w.atNs = port.now();
      if (!step.done) continue;
      w.current = undefined;
      rec.errno = step.value;
      rec.endNs = port.now();
      this.passSpan(rec);
      this.o.onStagingProgress?.(report.packages.length, passes.length);
      if (rec.errno) {
        w.queue.length = 0;
        if (!failed || rec.endNs < failed.endNs) failed = rec;
      }
    }
    const endNs = Math.max(startNs, ...workers.map((w) => w.atNs));
    if (never) {
      port.runAt(endNs);
      sortLinesByTime(log.lines, firstLine);
      report.reason = 'does-not-terminate';
      report.failedCpu = never.rec.cpu;
      report.failedPackage = never.rec.pkg;
      this.finishStaging(report);
      throw never.stuck;
    }
    if (failed) {
      port.runAt(failed.endNs);
      this.stagingFailed(run, failed);
    }
    port.runAt(endNs);
    if (!failed) this.stagingSucceeded(run);
    sortLinesByTime(log.lines, firstLine);
    return this.finishStaging(report);
  }

  /**
   * rdmsrq_on_cpu(cpu, MSR_IA32_MCU_STAGING_MBOX_ADDR): the mailbox's address;
   * undefined when the cross-call failed (the kernel WARNs and stops staging).
   */
  private readMailbox(run: StagingRun, cpu: number, pkg: number): Mailbox | undefined {
    const { port, log } = this.o;
    const { report } = run;
    try {
      return { pa: Number(port.rdmsrOnCpu(cpu, MSR_IA32_MCU_STAGING_MBOX_ADDR)), msrFault: false };
    } catch (err) {
      if (err instanceof CrossCallFault) {
        // rdmsrq_on_cpu() could not reach the CPU: the one place staging stops without an error line.
        log.warnOnce('stage_microcode.rdmsr', port.currentTask(), INTEL_C, 'stage_microcode');
        report.errno = -EOPNOTSUPP;
        report.reason = 'cross-call-failed';
        report.failedCpu = cpu;
        report.failedPackage = pkg;
        return undefined;
      }
      if (!(err instanceof MsrFault)) throw err;
      // The plain RDMSR: the exception fixup warns (once) and the read gives 0,
      // so do_stage() goes on with physical address 0.
      log.uncheckedRdmsr(MSR_IA32_MCU_STAGING_MBOX_ADDR, '__rdmsr_on_cpu');
      return { pa: 0, msrFault: true };
    }
  }

  /** do_stage() through one mailbox, recorded as a pass (closed also when do_stage() would never return). */
  private stagePass(run: StagingRun, cpu: number, pkg: number, mailbox: Mailbox): PackageStaging {
    const { port } = this.o;
    const rec = newPackageStaging(pkg, cpu, mailbox.pa, port.now());
    if (mailbox.msrFault) rec.msrFault = true;
    run.report.packages.push(rec);
    try {
      rec.errno = doStage(run.ctx, mailbox.pa, rec);
    } finally {
      rec.endNs = port.now();
    }
    this.passSpan(rec);
    return rec;
  }

  private passSpan(rec: PackageStaging): void {
    this.o.tracer.span('staging', `stage package ${rec.pkg}`, rec.cpu, rec.startNs, rec.endNs, {
      pkg: rec.pkg,
      errno: rec.errno,
      bytesSent: rec.bytesSent,
      chunks: rec.chunks,
      resends: rec.resends,
    });
  }

  private stagingFailed(run: StagingRun, rec: PackageStaging): void {
    const { report } = run;
    this.printStaging(
      run,
      'err',
      `Error: staging failed (${rec.errno}) for CPU${rec.cpu} at package ${rec.pkg}.`,
    );
    report.errno = rec.errno;
    report.reason = rec.msrFault ? 'mailbox-msr-fault' : 'package-failed';
    report.failedCpu = rec.cpu;
    report.failedPackage = rec.pkg;
  }

  private stagingSucceeded(run: StagingRun): void {
    this.printStaging(run, 'info', `Staging of patch revision 0x${run.revision.toString(16)} succeeded.`);
    run.report.ok = true;
  }

  private printStaging(run: StagingRun, level: 'err' | 'info', text: string): void {
    if (run.mark) this.o.log.printk(level, `microcode: ${text}`, run.mark);
    else this.o.log.pr(level, text);
  }
}

/** One staging step's state, shared by its passes. */
interface StagingRun {
  ctx: StagingContext;
  report: StagingReport;
  passes: { cpu: number; pkg: number }[];
  revision: number;
  mark: LogMark | undefined;
}

/** What MSR 0x7a5 gave for a pass: the mailbox address, or 0 after a #GP. */
interface Mailbox {
  pa: number;
  msrFault: boolean;
}

/** Policy stage-order=parallel: one package's worker, its passes still to run, and where it is. */
interface Worker {
  pkg: number;
  queue: { cpu: number; mailbox: Mailbox }[];
  /** Virtual time the worker has reached. */
  atNs: number;
  current: { rec: PackageStaging; steps: Generator<void, number, void> } | undefined;
}

/** The mark of the staging outcome's line when a policy changed the staging step. */
function stagingMark(policy: Policy): LogMark | undefined {
  const changes = stagingPolicyChanges(policy);
  if (changes.length === 0) return undefined;
  return {
    kind: 'ours',
    note: `the kernel's text, from a staging step that is not 6.19's: policy ${changes.join(', ')}`,
  };
}

/**
 * Workers that ran at the same virtual time appended their lines one worker
 * after another: put the lines from `from` on in time order (stable: lines at
 * the same time keep the order they were printed in).
 */
function sortLinesByTime(lines: LogLine[], from: number): void {
  const tail = lines.slice(from).map((line, seq) => ({ line, seq }));
  tail.sort((a, b) => a.line.timeNs - b.line.timeNs || a.seq - b.seq);
  tail.forEach(({ line }, i) => {
    lines[from + i] = line;
  });
}
