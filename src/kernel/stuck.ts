/**
 * Where the kernel would never return from the reload write, said in words (no
 * kernel log line: the kernel prints nothing while it loops or waits).
 */
export interface NonTermination {
  /** The function the kernel is stuck in, e.g. `do_stage()`. */
  where: string;
  /** The loop it cannot leave, as the code reads. */
  loop: string;
  /** Why it cannot leave it, with the values that keep it there. */
  reason: string;
  /** Where the model stopped following it (the model's own bound, or 'none' when the model can tell at once). */
  bound: string;
}

/**
 * Thrown by a kernel path that the 6.19 code would never leave; the core turns
 * it into the outcome 'kernel-does-not-terminate'. Never an errno: the kernel
 * returns none.
 */
export class KernelDoesNotTerminate extends Error {
  override name = 'KernelDoesNotTerminate';
  constructor(readonly stuck: NonTermination) {
    super(`${stuck.where}: ${stuck.reason}`);
  }
}
