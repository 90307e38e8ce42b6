import { NS_PER_S } from './clock.js';

/**
 * Every duration the simulation charges, in nanoseconds unless named otherwise.
 * Defaults follow ../shared/spec/late-load.md ("Suggested cost-model defaults");
 * `COST_MODEL_SOURCES` says where each comes from. All are overridable so runs
 * can be compared under other assumptions.
 */
export interface CostModel {
  /** One uncached MMIO write (posted). */
  mmioWriteNs: number;
  /** One uncached MMIO read (round trip). */
  mmioReadNs: number;
  /** Device time to process one 4 KB staging chunk, before READY. */
  deviceChunkNs: number;
  /** Kernel tick rate; decides how long msleep(1) really sleeps. */
  hz: number;
  /** '6.12+' sleeps 1-2 jiffies for msleep(1); 'pre-6.12' one jiffy more. */
  kernelGeneration: KernelGeneration;
  /** Scheduler latency added to every wake-up from sleep. */
  wakeupLatencyNs: number;
  /** WRMSR 0x79 without a usable staged copy: base + perByte * image bytes. */
  applyUnstagedBaseNs: number;
  applyUnstagedPerByteNs: number;
  /** WRMSR 0x79 when the package holds a completed stage of the same revision. */
  applyStagedBaseNs: number;
  applyStagedPerByteNs: number;
  /** Reading the revision: WRMSR 0x8b, CPUID(1), RDMSR 0x8b. */
  revisionReadNs: number;
  /** Any other RDMSR/WRMSR on the local CPU. */
  msrAccessNs: number;
  /** rdmsr_on_cpu()/smp_call_function_single() round trip to another CPU. */
  crossCallNs: number;
  /** NMI self-IPI per CPU in the rendezvous. */
  nmiSelfIpiNs: number;
  /** stop_machine entry per CPU (scheduling the stopper thread). */
  stopMachineEntryNs: number;
  /** Spread of stop_machine arrival: CPU i arrives after i * this (IPI fan-out). */
  stopMachineFanoutNs: number;
}

export type KernelGeneration = '6.12+' | 'pre-6.12';

export const DEFAULT_COST_MODEL: Readonly<CostModel> = Object.freeze({
  mmioWriteNs: 100,
  mmioReadNs: 1_000,
  deviceChunkNs: 100_000,
  hz: 1000,
  kernelGeneration: '6.12+',
  wakeupLatencyNs: 0,
  applyUnstagedBaseNs: 2_000_000,
  applyUnstagedPerByteNs: 60,
  applyStagedBaseNs: 2_000_000,
  applyStagedPerByteNs: 36,
  revisionReadNs: 1_000,
  msrAccessNs: 100,
  crossCallNs: 5_000,
  nmiSelfIpiNs: 2_000,
  stopMachineEntryNs: 20_000,
  stopMachineFanoutNs: 50,
});

export const COST_MODEL_SOURCES: Readonly<Record<keyof CostModel, string>> = Object.freeze({
  mmioWriteNs: 'assumption: PCIe analogues, 50-300 ns between posted UC writes',
  mmioReadNs: 'assumption: PCIe analogues, 0.8-1.6 us round trip',
  deviceChunkNs: 'assumption: no public figure; hidden behind the poll sleep anyway',
  hz: 'kernel config: 1000 (RHEL/Fedora); Debian/Ubuntu generic use 250',
  kernelGeneration: 'msleep() rounding changed in 6.12: 1-2 jiffies since, 2-3 before',
  wakeupLatencyNs: 'assumption: scheduler wake-up latency, 0 by default',
  applyUnstagedBaseNs: 'assumption scaled from the ~2-5 ms per 32 KB estimate on Skylake-SP',
  applyUnstagedPerByteNs: 'assumption: linear in size (about 102 ms for 1.67 MB)',
  applyStagedBaseNs: 'assumption: activation only',
  applyStagedPerByteNs: "chosen so staging removes ~40% of the apply at ~1.6 MB (the RFC's figure)",
  revisionReadNs: 'assumption',
  msrAccessNs: 'assumption',
  crossCallNs: 'assumption: IPI round trip for rdmsr_on_cpu()',
  nmiSelfIpiNs: 'assumption',
  stopMachineEntryNs: 'assumption',
  stopMachineFanoutNs: 'assumption: stop_machine wakes CPUs one after another',
});

/** The length of one jiffy. */
export function jiffyNs(cost: Pick<CostModel, 'hz'>): number {
  return NS_PER_S / cost.hz;
}

/**
 * When msleep(ms) called at `now` returns. The timer fires on a tick boundary
 * once the requested jiffies have fully passed, so the sleep depends on the
 * phase of `now` within the current jiffy (1-2 jiffies for msleep(1) on 6.12+).
 */
export function msleepWakeTime(now: number, ms: number, cost: CostModel): number {
  const jiffy = jiffyNs(cost);
  let jiffies = Math.max(1, Math.ceil((ms * 1_000_000) / jiffy));
  if (cost.kernelGeneration === 'pre-6.12') jiffies += 1;
  const earliest = now + jiffies * jiffy;
  return Math.ceil(earliest / jiffy) * jiffy + cost.wakeupLatencyNs;
}

/** Duration of the WRMSR 0x79 that loads `imageBytes`, with or without a matching staged copy. */
export function applyCostNs(cost: CostModel, imageBytes: number, staged: boolean): number {
  return staged
    ? cost.applyStagedBaseNs + cost.applyStagedPerByteNs * imageBytes
    : cost.applyUnstagedBaseNs + cost.applyUnstagedPerByteNs * imageBytes;
}
