/**
 * Everything the host (the kernel model) may do to the machine: MSR and
 * CPUID accesses on a CPU, MMIO through ioremap()ed addresses, placing its
 * buffers in memory, and sleeping. The kernel holds only this interface, so
 * a test can swap the machine, and the machine never sees kernel objects.
 */
export interface HostPort {
  /** Virtual time of the code running now, in ns. */
  now(): number;
  /**
   * Scheduling: the code that follows runs at virtual time `t` (a CPU picked up
   * by stop_machine, or a process woken up). Time may go back when the kernel
   * model switches between CPUs that run in parallel.
   */
  runAt(t: number): void;

  /** RDMSR on `cpu`. Throws MsrFault (#GP) for an MSR the CPU does not implement. */
  rdmsr(cpu: number, msr: number): bigint;
  /** WRMSR on `cpu`. Throws MsrFault (#GP). */
  wrmsr(cpu: number, msr: number, value: bigint): void;
  /** CPUID leaf's EAX on `cpu` (leaf 1: the signature; also latches MSR 0x8b). */
  cpuidEax(cpu: number, leaf: number): number;
  /**
   * rdmsr_on_cpu(): the plain RDMSR run on `cpu` by a cross-call from the
   * calling CPU. Throws CrossCallFault when `cpu` cannot take the call (offline),
   * MsrFault when the RDMSR itself raises #GP there.
   */
  rdmsrOnCpu(cpu: number, msr: number): bigint;
  /** The task the kernel code runs as now: the writer of the reload file (its CPU and PID). */
  currentTask(): { cpu: number; pid: number };

  /**
   * ioremap(): map `size` bytes at physical `pa`; 0 on failure. Any address that
   * is not System RAM maps, whether or not a device decodes it: an access no
   * device decodes reads what the platform returns for it (typically all ones)
   * and a write to it is dropped.
   */
  ioremap(pa: number, size: number): number;
  iounmap(va: number): void;
  readl(va: number): number;
  writel(value: number, va: number): void;
  /**
   * writesl() / iowrite32_rep(): `count` dwords of `src` from index `from`, each
   * written to `va` in order: exactly `count` writel(src[i], va) calls (the same
   * device state, time, faults and traces), which the machine may carry out as
   * one block.
   */
  writesl(va: number, src: Uint32Array, from: number, count: number): void;

  /** Put a kernel buffer in physical memory; returns its physical address. */
  placeBuffer(bytes: Uint8Array): number;
  releaseBuffer(pa: number): void;

  msleep(ms: number): void;
  /** Busy-wait. */
  udelay(us: number): void;
  /** Busy-wait for `ns` without returning early (NMI/IPI delivery, stop_machine entry). */
  spin(ns: number): void;
}

/** A #GP from RDMSR/WRMSR, which the kernel's *_safe accessors turn into an error code. */
export class MsrFault extends Error {
  override name = 'MsrFault';
  constructor(
    readonly cpu: number,
    readonly msr: number,
    readonly write: boolean,
  ) {
    super(`#GP on ${write ? 'WRMSR' : 'RDMSR'} 0x${msr.toString(16)} on CPU ${cpu}`);
  }
}

/** smp_call_function_single() refused: the target CPU is offline (the kernel's -ENXIO). */
export class CrossCallFault extends Error {
  override name = 'CrossCallFault';
  constructor(readonly cpu: number) {
    super(`CPU ${cpu} is offline: no cross-call`);
  }
}

/** The machine's side of CPU scheduling that the kernel cannot see coming. */
export interface CpuAvailability {
  /**
   * How late `cpu`'s stop_machine thread starts (a long interrupts-off section,
   * SMM): before stop_machine's barrier, so it delays every CPU. Infinity: never.
   */
  stopMachineDelayNs(cpu: number): number;
  /**
   * How long `cpu` is held between stop_machine's barrier and its arrival in the
   * microcode handler (its self-NMI delayed, SMM): after the barrier, so only
   * this CPU is late at the rendezvous. Infinity: it never arrives.
   */
  stallNs(cpu: number): number;
}
