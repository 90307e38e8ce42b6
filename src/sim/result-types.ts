import type { CpuTimeline, LoadCounts, LoadOutcome, StopWindow } from '../kernel/core.js';
import type { StagingReport } from '../kernel/intel/staging-report.js';
import type { Policy } from '../kernel/policy.js';
import type { LogLine, TaintFlag } from '../kernel/printk.js';
import type { NonTermination } from '../kernel/stuck.js';
import type { TraceCounter, TraceSpan } from '../kernel/trace.js';
import type { CoreApplyRecord } from '../platform/machine.js';
import type { DeviceFault, DeviceProfile } from '../platform/mailbox/config.js';
import type { MailboxStats, MisuseRecord } from '../platform/mailbox/device.js';
import type { MmioTraceRecorder } from '../platform/mmio-trace.js';
import type { CostModel } from '../time/cost-model.js';

/** Times are virtual nanoseconds since boot; a CPU that never got somewhere has null (NaN in memory). */
export interface SimulationResult {
  schema: 'ucode-staging/result@2';
  seed: number;
  machine: {
    name: string;
    description: string;
    packages: number;
    coresPerPackage: number;
    threadsPerCore: number;
    cpus: number;
    onlineCpus: number;
    signature: number;
    fms: string;
    platformId: number;
    initialRevision: number;
    stagingCapable: boolean;
    numbering: { packages: string; smt: string };
  };
  costModel: CostModel;
  policy: Policy;
  image: {
    source: string;
    signature: number;
    revision: number;
    date: string | null;
    totalSize: number;
    minRequiredRevision: number;
  } | null;
  outcome: LoadOutcome;
  /**
   * What load_late_locked() returned: 0 or -errno. null in JSON (NaN in memory)
   * when the write never returned: outcomes 'panic', 'hang', 'kernel-does-not-terminate'.
   */
  returnCode: number;
  /** The errno's name, '0', or 'none (the write never returns)'. */
  returnCodeName: string;
  /**
   * What the write(2) of "1\n" to the reload file returns, as reload_store()
   * returns it: 2 (the bytes written) on success, else the -errno; null when the
   * write never returns.
   */
  writeReturn: number | null;
  safe: boolean;
  /** Any taint flag set (`taints`). */
  tainted: boolean;
  /** The kernel's taint flags: TAINT_WARN (a WARN fired), TAINT_CPU_OUT_OF_SPEC (the load's). */
  taints: TaintFlag[];
  panicMessage: string | null;
  /** Why stop_machine never returned (outcome 'hang'), or null. Not a kernel line: the kernel is stuck. */
  hangReason: string | null;
  /**
   * Where the kernel would wait or loop for ever (outcomes 'hang' and
   * 'kernel-does-not-terminate'): the function, the loop, why, and where the
   * model stopped following it. Not a kernel line: the kernel prints nothing.
   */
  stuck: NonTermination | null;
  revision: { old: number; new: number };
  counts: LoadCounts;
  staging: StagingSummary;
  stopWindow: Interval | null;
  /** From the reload write to its return. */
  reload: Interval;
  cpus: CpuRecord[];
  applies: CoreApplyRecord[];
  devices: DeviceRecord[];
  log: LogLine[];
  /** The log as `dmesg` prints it. */
  dmesg: string;
  trace: { spans: TraceSpan[]; counters: TraceCounter[] };
  /** Every MMIO access, when recorded (not serialised to JSON). */
  readonly mmio?: MmioTraceRecorder;
}

export interface Interval extends StopWindow {
  durationNs: number;
}

/** The Intel driver's staging report, with nulls where JSON has no undefined, and totals. */
export interface StagingSummary extends Pick<StagingReport, 'attempted' | 'ok' | 'errno' | 'packages'> {
  /** use_staging after driver init. */
  enabled: boolean;
  errnoName: string;
  reason: StagingReport['reason'] | null;
  failedCpu: number | null;
  failedPackage: number | null;
  startNs: number | null;
  endNs: number | null;
  durationNs: number;
  bytesSent: number;
  chunks: number;
  resends: number;
  polls: number;
}

/** A CPU's timeline in the late load, with where it sits in the topology and its revisions. */
export interface CpuRecord extends CpuTimeline {
  package: number;
  core: number;
  thread: number;
  apicId: number;
  revisionBefore: number;
  revisionAfter: number;
  /** Time this CPU spent stopped (its share of the stop window). */
  stoppedForNs: number;
}

/** A package's mailbox: its configuration, its counters and what it saw. */
export interface DeviceRecord extends MailboxStats {
  package: number;
  mailboxPa: number;
  present: boolean;
  profile: DeviceProfile;
  faults: DeviceFault[];
  stagedRevision: number | null;
  /**
   * When the staged copy the device holds at the end became complete (the ready
   * time of the transaction that completed it), or null when it holds none. An
   * apply before this time found no staged copy.
   */
  stagedAtNs: number | null;
  misuse: MisuseRecord[];
}
