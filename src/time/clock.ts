/**
 * Virtual time in nanoseconds. Nothing in the simulation reads the wall clock:
 * every cost is added here, so a run's timing depends only on its inputs.
 *
 * A float64 holds integer nanoseconds exactly up to 2^53 ns (104 days), far
 * beyond any run.
 */
export class VirtualClock {
  // `declare`: no class-field definition, so the constructor's store is the
  // field's first and V8 keeps a double in place instead of allocating a
  // HeapNumber on every `now +=` (an `undefined` start makes the field generic).
  declare now: number;

  constructor(startNs = 0) {
    // The first store fixes the field's representation. A start that fits a
    // Smi (0, or 1.5 s of ns where Smis are 32-bit) would make `now` a Smi
    // field, and the first later time past the Smi range would then deprecate
    // the class's map and deoptimize every function compiled against it (in a
    // late load: each one that reads an MSR). -0 is not a Smi, so the field
    // starts as a double; the second store sets the real start.
    this.now = -0;
    this.now = startNs;
  }

  advance(ns: number): void {
    this.now += ns;
  }

  /** Move forward to `t` if it is later (waiting for an event that may already have happened). */
  advanceTo(t: number): void {
    if (t > this.now) this.now = t;
  }
}

export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;
