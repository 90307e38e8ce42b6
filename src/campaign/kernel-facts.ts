import type { PackageStaging } from '../kernel/intel/staging-report.js';
import type { Policy } from '../kernel/policy.js';
import type { MailboxTransaction } from '../platform/mailbox/device.js';

// The campaign's oracle: what Linux 6.19 bounds each wait and loop of the late
// load by, restated here from core.c and intel.c. These are deliberately NOT
// read from src/kernel/limits.ts: the model runs on KERNEL_LIMITS, the checks
// run on this copy, so a change to either (a wrong constant, an off-by-one in
// the model) shows as a violation instead of moving both sides at once.
// test/campaign/kernel-limits.test.ts changes each of KERNEL_LIMITS in turn and
// sees the campaign report it.

export const KERNEL_FACTS = Object.freeze({
  /** wait_for_cpus(): `for (timeout = 0; timeout < USEC_PER_SEC; timeout++)`, one 1 us step each. */
  rendezvousWaitUs: 1_000_000,
  /** kick_offline_cpus(): `timeout < (USEC_PER_SEC / 2)` iterations of udelay(1). */
  offlineKickUs: 500_000,
  /** wait_for_ctrl(): USEC_PER_SEC 1 us steps for the primary's verdict, then panic. */
  siblingWaitUs: 1_000_000,
  /** wait_for_transaction(): MBOX_XACTION_TIMEOUT_MS iterations of msleep(1) + a STATUS read. */
  stagingPollIterations: 10_000,
  /** can_send_next_chunk(): `bytes_sent + chunk_size > ucode_len * 2` ends the transfer with -EMSGSIZE. */
  stagingBudgetFactor: 2,
  /** PAGE_SIZE: chunk_size = min(PAGE_SIZE, ucode_len - offset). */
  stagingChunkBytes: 4096,
  /** msleep(1) never returns before 1 ms has passed (it sleeps one jiffy more than 1 ms rounds to). */
  msleepMinNs: 1_000_000,
});

/** The kernel's waits count steps of 1 us (udelay(1), or 1000 rep_nop between two reads). */
export const US = 1000;

/** The mailbox's wire facts the checks read answers with (Intel's, restated like the driver's). */
export const MAILBOX = Object.freeze({
  endOffset: 0xffff_ffff,
  respError: 0x4,
  statusError: 0x4,
  statusReady: 0x8000_0000,
  /** The only response header the kernel accepts: 0x8086 | 0xb << 16, size 16 bytes (4 dwords). */
  responseHeaderLow: 0x000b_8086,
  responseHeaderHigh: 4,
});

/**
 * 1 us steps a wait of `ns` takes to see its condition: the waiter reads at
 * start + k us for k = 0, 1, 2, ..., so it sees an event at start + ns at step
 * ceil(ns / 1 us). It gives up when that is not below its step count.
 */
export function stepsToSee(ns: number): number {
  return Math.ceil(Math.max(0, ns) / US);
}

/** STATUS polls the host makes before -ETIMEDOUT: 10,000 msleep(1), or the fine policy's same budget in udelay steps. */
export function pollLimit(policy: Pick<Policy, 'poll' | 'pollUs'>): number {
  const n = KERNEL_FACTS.stagingPollIterations;
  return policy.poll === 'fine' ? Math.ceil((n * 1000) / policy.pollUs) : n;
}

/** The shortest time from a GO to the host's first STATUS read: one msleep(1), or one udelay(pollUs). */
export function minPollIntervalNs(policy: Pick<Policy, 'poll' | 'pollUs'>): number {
  return policy.poll === 'fine' ? policy.pollUs * US : KERNEL_FACTS.msleepMinNs;
}

/** chunk_size for the next request: min(PAGE_SIZE, ucode_len - offset). */
export function chunkSize(len: number, offset: number): number {
  return Math.min(KERNEL_FACTS.stagingChunkBytes, len - offset);
}

/** The transactions (GOs) a mailbox saw during one staging pass. */
export function passTransactions(
  all: readonly MailboxTransaction[] | undefined,
  pass: PackageStaging,
): readonly MailboxTransaction[] {
  return (all ?? []).filter((t) => t.goNs >= pass.startNs && t.goNs <= pass.endNs);
}

/**
 * The errno the kernel's wait_for_transaction() and fetch_next_offset() give for
 * a transaction as the device recorded it (0: the host went on), and the line
 * fetch_next_offset() prints first, if any. `hostGaveUpNs`: when the host read
 * STATUS for the last time.
 */
export function answerErrno(
  tx: MailboxTransaction,
  len: number,
  hostGaveUpNs: number,
): { errno: number; line?: RegExp } {
  // The host read STATUS for the last time before the device changed it: still 0.
  if (tx.readyNs > hostGaveUpNs) return { errno: -110 };
  if ((tx.statusBits & MAILBOX.statusError) !== 0) return { errno: -5 };
  if ((tx.statusBits & MAILBOX.statusReady) === 0) return { errno: -110 };
  if (tx.respHeaderLow !== MAILBOX.responseHeaderLow || tx.respHeaderHigh !== MAILBOX.responseHeaderHigh) {
    return { errno: -53, line: /^microcode: staging: invalid response header \(0x[0-9a-f]+\)$/ };
  }
  if (tx.nextOffset !== MAILBOX.endOffset && tx.nextOffset > len) {
    return {
      errno: -22,
      line: new RegExp(
        `^microcode: staging: invalid offset \\(${tx.nextOffset}\\) past the image end \\(${len}\\)$`,
      ),
    };
  }
  if ((tx.respStatus & MAILBOX.respError) !== 0) return { errno: -71 };
  return { errno: 0 };
}
