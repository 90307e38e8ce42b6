/**
 * A small sampling harness. The measured code runs between two reads of a
 * clock the caller injects (the Node entry passes performance.now), so the
 * modules that are measured use no Node API.
 */

/** Milliseconds from a monotonic clock. */
export type Clock = () => number;

export interface SampleSpec<S> {
  /** Untimed runs first (JIT warm-up). */
  warmup: number;
  /** Timed runs. */
  samples: number;
  /** Untimed: builds what one run consumes (a fresh machine, buffers). */
  setup: () => S;
  /** Timed. */
  run: (state: S) => void;
  /** Untimed, after every run (warm-up included): throws if the run did not do what it should. */
  check?: (state: S) => void;
}

/** Durations in ms of `samples` timed runs, each after its own untimed setup. */
export function sample<S>(now: Clock, spec: SampleSpec<S>): number[] {
  const times: number[] = [];
  for (let i = 0; i < spec.warmup + spec.samples; i++) {
    const state = spec.setup();
    const t0 = now();
    spec.run(state);
    const t1 = now();
    spec.check?.(state);
    if (i >= spec.warmup) times.push(t1 - t0);
  }
  return times;
}

export interface BatchSpec<S> {
  /** Timed runs per batch; every batch's states are set up before its timer starts. */
  size: number;
  batches: number;
  setup: () => S;
  run: (state: S) => void;
  check?: (state: S) => void;
}

/**
 * Mean ms per run of each batch: `size` runs back to back in one timed region,
 * so the garbage collection they cause is in the figure (a median of single
 * runs mostly misses it). Run after sample() has warmed the code up.
 */
export function batchMeans<S>(now: Clock, spec: BatchSpec<S>): number[] {
  const means: number[] = [];
  for (let b = 0; b < spec.batches; b++) {
    const states: S[] = [];
    for (let i = 0; i < spec.size; i++) states.push(spec.setup());
    const t0 = now();
    for (const s of states) spec.run(s);
    const t1 = now();
    if (spec.check) for (const s of states) spec.check(s);
    means.push((t1 - t0) / spec.size);
  }
  return means;
}
