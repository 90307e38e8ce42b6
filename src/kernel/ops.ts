/**
 * The contract between the vendor-neutral core and a vendor driver, shaped
 * like Linux's struct microcode_ops (internal.h) with the staging extension.
 * The core knows nothing else about Intel.
 */
export type UcodeState =
  | 'ok'
  | 'new'
  | 'new-safe'
  | 'updated'
  | 'not-found'
  | 'error'
  | 'timeout'
  | 'offline';

export interface CpuSignature {
  signature: number;
  /** The CPU's platform flag bit, 1 << IA32_PLATFORM_ID[52:50]. */
  platformFlags: number;
  revision: number;
}

export interface MicrocodeOps {
  /** Find and check the image for `cpu`; keeps it as the pending late-load image. */
  requestMicrocodeFw(cpu: number): UcodeState;
  /** Called on `cpu` inside the rendezvous. */
  applyMicrocode(cpu: number): UcodeState;
  /** Push the pending image to every package's mailbox before CPUs are stopped. */
  stageMicrocode(): StagingReport;
  collectCpuInfo(cpu: number): CpuSignature;
  /** `failed` is true when nothing was updated: the driver drops the image. */
  finalizeLateLoad(failed: boolean): void;
  /** The pending image's revision, for reporting. */
  pendingRevision(): number | undefined;
  /** Driver init (init_intel_microcode): enumerate features such as staging. */
  init(): void;
  /** boot_cpu_data.microcode: the boot CPU's revision as last read. */
  readonly bootRevision: number;
  readonly nmiSafe: boolean;
  readonly useNmi: boolean;
  useStaging: boolean;
}

/** What staging one package did. */
export interface PackageStaging {
  pkg: number;
  /** The primary thread whose MSR 0x7a5 gave the mailbox. */
  cpu: number;
  mailboxPa: number;
  /** 0 or a negative errno. */
  errno: number;
  bytesSent: number;
  /** Transactions (GO writes). */
  chunks: number;
  /** Chunks sent again at an offset already sent. */
  resends: number;
  /** STATUS reads while waiting for READY. */
  polls: number;
  dwordsWritten: number;
  startNs: number;
  endNs: number;
}

/** What the staging step did, for the result and for the `require` policy. */
export interface StagingReport {
  attempted: boolean;
  ok: boolean;
  /** 0, or the errno that stopped staging (-EOPNOTSUPP when it could not start). */
  errno: number;
  reason?: 'misaligned' | 'mailbox-msr-fault' | 'package-failed';
  failedCpu?: number;
  failedPackage?: number;
  packages: PackageStaging[];
  startNs: number;
  endNs: number;
}

/** A staging pass that has not sent anything yet. */
export function newPackageStaging(
  pkg: number,
  cpu: number,
  mailboxPa: number,
  startNs: number,
): PackageStaging {
  return {
    pkg,
    cpu,
    mailboxPa,
    errno: 0,
    bytesSent: 0,
    chunks: 0,
    resends: 0,
    polls: 0,
    dwordsWritten: 0,
    startNs,
    endNs: 0,
  };
}
