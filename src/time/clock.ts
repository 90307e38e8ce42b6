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
