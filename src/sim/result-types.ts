import type { CpuResult, LoadOutcome } from '../kernel/core.js';
import type { PackageStaging } from '../kernel/intel/staging-report.js';
import type { Policy } from '../kernel/policy.js';
import type { LogLine } from '../kernel/printk.js';
import type { TraceCounter, TraceSpan } from '../kernel/trace.js';
import type { CoreApplyRecord } from '../platform/machine.js';
import type { DeviceFault, DeviceProfile } from '../platform/mailbox/config.js';
import type { MmioTraceRecorder } from '../platform/mmio-trace.js';
import type { CostModel } from '../time/cost-model.js';

/** Times are virtual nanoseconds since boot; a CPU that never got somewhere has null (NaN in memory). */
export interface SimulationResult {
  schema: 'ucode-staging/result@1';
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
  /** 0 or -errno, as the reload write returns. */
  returnCode: number;
  returnCodeName: string;
  safe: boolean;
  tainted: boolean;
  panicMessage: string | null;
  /** Why stop_machine never returned (outcome 'hang'), or null. Not a kernel line: the kernel is stuck. */
  hangReason: string | null;
  revision: { old: number; new: number };
  counts: { updated: number; siblings: number; failed: number; timedOut: number; offline: number };
  staging: StagingSummary;
  stopWindow: { startNs: number; endNs: number; durationNs: number } | null;
  /** From the reload write to its return. */
  reload: { startNs: number; endNs: number; durationNs: number };
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

export interface StagingSummary {
  /** use_staging after driver init. */
  enabled: boolean;
  attempted: boolean;
  ok: boolean;
  errno: number;
  errnoName: string;
  reason: string | null;
  failedCpu: number | null;
  failedPackage: number | null;
  startNs: number | null;
  endNs: number | null;
  durationNs: number;
  bytesSent: number;
  chunks: number;
  resends: number;
  polls: number;
  /** One entry per staging pass (a package can be staged more than once). */
  packages: PackageStaging[];
}

export interface CpuRecord {
  cpu: number;
  package: number;
  core: number;
  thread: number;
  apicId: number;
  primary: boolean;
  online: boolean;
  ctrlCpu: number;
  result: CpuResult;
  revisionBefore: number;
  revisionAfter: number;
  stoppedNs: number;
  arrivedNs: number;
  releasedNs: number;
  applyStartNs: number;
  applyEndNs: number;
  doneNs: number;
  /** Time this CPU spent stopped (its share of the stop window). */
  stoppedForNs: number;
}

export interface DeviceRecord {
  package: number;
  mailboxPa: number;
  present: boolean;
  profile: DeviceProfile;
  faults: DeviceFault[];
  stagedRevision: number | null;
  transactions: number;
  bytesReceived: number;
  rerequests: number;
  aborts: number;
  completions: number;
  faultsFired: number;
  misuse: { timeNs: number; kind: string; detail: string }[];
}
