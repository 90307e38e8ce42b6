import type { StagingOutcome } from '../ops.js';

/** What staging one package did. */
export interface PackageStaging {
  pkg: number;
  /** The primary thread whose MSR 0x7a5 gave the mailbox. */
  cpu: number;
  /** What MSR 0x7a5 read: the mailbox address, or 0 after a #GP (msrFault). */
  mailboxPa: number;
  /** The RDMSR of 0x7a5 raised #GP: the kernel warned, read 0 and staged at address 0. */
  msrFault?: true;
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

/**
 * What the Intel driver's staging step did. The core sees only the
 * StagingOutcome part; the result reads the rest from the driver.
 */
export interface StagingReport extends StagingOutcome {
  attempted: boolean;
  /**
   * Why staging stopped where stage_microcode() returns nothing: 'misaligned'
   * (the kernel's misalignment line), 'cross-call-failed' (rdmsrq_on_cpu() could
   * not reach the CPU: a WARN), 'package-failed' (with the package's errno),
   * 'mailbox-msr-fault' (the same, at a package whose MSR 0x7a5 raised #GP, so
   * do_stage() ran at address 0), or 'does-not-terminate' (do_stage() would
   * never return).
   */
  reason?: 'misaligned' | 'cross-call-failed' | 'package-failed' | 'mailbox-msr-fault' | 'does-not-terminate';
  failedCpu?: number;
  failedPackage?: number;
  /** One entry per staging pass (a package can be staged more than once). */
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
    // Set when the pass ends, always before the report is read. NaN, not 0,
    // makes the field a double from the start: a Smi here would turn into a
    // double at the first pass's end, deprecating the records' map and
    // deoptimising the staging loop for the next package.
    endNs: Number.NaN,
  };
}
