/**
 * Every bound the 6.19 loader puts on a wait or a loop, in one place, with the
 * one bound that is the model's own. The kernel's are restated from core.c and
 * intel.c (the values, not the code); tests and campaign checks read them from
 * here rather than repeating the numbers.
 */
export const KERNEL_LIMITS = Object.freeze({
  /** wait_for_cpus(): USEC_PER_SEC iterations of a 1 us delay for every CPU to reach the rendezvous. */
  rendezvousWaitUs: 1_000_000,
  /** kick_offline_cpus(): USEC_PER_SEC / 2 iterations of udelay(1) for the soft-offlined siblings. */
  offlineKickUs: 500_000,
  /** wait_for_ctrl(): USEC_PER_SEC iterations of a 1 us delay for a sibling's primary thread. */
  siblingWaitUs: 1_000_000,
  /** wait_for_transaction(): MBOX_XACTION_TIMEOUT_MS iterations of msleep(1) and a STATUS read. */
  stagingPollIterations: 10_000,
  /** can_send_next_chunk(): the bytes sent may not pass this many times the image length. */
  stagingBudgetFactor: 2,
  /** PAGE_SIZE: the largest chunk one staging request carries. */
  stagingChunkBytes: 4096,
});

/**
 * Bounds that are the model's, not the kernel's: where the 6.19 code would loop
 * for ever, the model stops here and reports outcome 'kernel-does-not-terminate'.
 */
export const MODEL_LIMITS = Object.freeze({
  /**
   * do_stage() iterations in a row that send nothing (chunk_size 0: the device
   * keeps asking for the offset equal to the image length). bytes_sent never
   * grows, so the 2x budget never ends the loop; the kernel loops for as long
   * as the device keeps answering so. No finite device script repeats an answer
   * this often without being `sticky`, so a run that reaches it would not end.
   */
  stagingNoProgressIterations: 10_000,
});
