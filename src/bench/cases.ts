/**
 * The benchmarks themselves, one function a case: `run.js --case NAME` runs
 * one in its own process and prints its JSON result. The measured code lives
 * in the modules these call (hot-path, late-load, parse, campaign), which use
 * no Node API; this module reads files, the clock and V8's heap statistics.
 */
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { parseMachineSpec } from '../platform/machine-spec.js';
import { sharedImages } from '../platform/mailbox/shared-images.js';
import { PRESETS } from '../platform/presets.js';
import type { SimulationResult } from '../sim/result-types.js';
import { campaign } from './campaign.js';
import { caseFleet } from './fleet.js';
import { batchMeans, sample } from './harness.js';
import { folderFiles, imageFile, MB, now } from './host.js';
import {
  checkStaging,
  copyDwords,
  type MmioCounts,
  mmioCounts,
  plainProtocol,
  plainProtocolState,
  recordedCounts,
  restage,
  runStaging,
  type StagingRun,
  stagingRun,
} from './hot-path.js';
import { blobWords, largestBlob } from './images.js';
import {
  checkLateLoad,
  GROWTH_FROM_CPUS,
  type LateLoadCase,
  lateLoad,
  SCALING_SHAPES,
  shapeMachine,
} from './late-load.js';
import { parseAll } from './parse.js';
import { type Summary, summarize } from './stats.js';

export interface Rate {
  /** Median wall time of one run, ms. */
  ms: Summary;
  /** Units per second at the median. */
  perSecond: number;
  /** Mean ms per run of whole batches (garbage collection included), when measured. */
  batchMs?: Summary;
  /** Units per second at the median of the batch means. */
  batchPerSecond?: number;
}

function rate(times: number[], units: number, batches?: number[]): Rate {
  const ms = summarize(times);
  const r: Rate = { ms, perSecond: units / (ms.median / 1000) };
  if (batches) {
    r.batchMs = summarize(batches);
    r.batchPerSecond = units / (r.batchMs.median / 1000);
  }
  return r;
}

export interface HotPathResult {
  image: string;
  blobBytes: number;
  floor: Rate;
  plain: Rate;
  /** A fresh machine; the image was staged before in this process (as every package after a run's first). */
  model: Rate;
  /** A fresh machine and nothing staged before: a new buffer and the checksum pass (a process's first staging). */
  modelNew: Rate;
  /** Re-staging on the same machine (as the kernel re-stages a package). */
  modelWarm: Rate;
  modelTrace: Rate;
  counts: MmioCounts;
  recordedWrites: number;
  recordedReads: number;
}

function caseHotPath(quick: boolean): HotPathResult {
  const image = imageFile(process.env.BENCH_FIRMWARE_DIR || undefined);
  const blob = largestBlob(image.bytes);
  const words = blobWords(blob);
  const spec = parseMachineSpec(PRESETS['gnr-2s']);
  const k = quick ? 4 : 1;

  const dst = new Uint32Array(words.length);
  const floor = sample(now, {
    warmup: 20 / k,
    samples: 100 / k,
    setup: () => dst,
    run: (d) => copyDwords(words, d),
    check: (d) => {
      if (d[d.length - 1] !== words[words.length - 1]) throw new Error('copy loop did not copy');
    },
  });

  let plainWrites = 0;
  const plain = sample(now, {
    warmup: 20 / k,
    samples: 100 / k,
    setup: () => plainProtocolState(words),
    run: plainProtocol,
    check: (s) => {
      plainWrites = s.writes;
    },
  });

  let counts: MmioCounts | undefined;
  const fresh = {
    setup: () => stagingRun(spec, words, false),
    run: runStaging,
    check: (r: StagingRun) => {
      checkStaging(r);
      counts = mmioCounts(r.record);
    },
  };
  const model = sample(now, { warmup: 30 / k, samples: 240 / k, ...fresh });
  const modelBatches = batchMeans(now, { size: 20, batches: 12 / k, ...fresh });

  // Nothing to compare with: the device fills a buffer of its own and checksums it.
  const unshared = {
    setup: () => stagingRun(spec, words, false),
    run: (r: StagingRun) => {
      sharedImages.clear();
      runStaging(r);
    },
    check: checkStaging,
  };
  const modelNew = sample(now, { warmup: 10 / k, samples: 120 / k, ...unshared });
  const modelNewBatches = batchMeans(now, { size: 20, batches: 6 / k, ...unshared });

  // The same machine stages again (ABORT, then the whole image).
  let warmRun: StagingRun | undefined;
  const again = {
    setup: () => {
      warmRun = warmRun ? restage(warmRun) : stagingRun(spec, words, false);
      return warmRun;
    },
    run: runStaging,
    check: checkStaging,
  };
  const modelWarm = sample(now, { warmup: 30 / k, samples: 240 / k, ...again });
  // One machine re-staged 20 times in a row per batch (restage() only resets the record).
  const warmBatches: number[] = [];
  for (let b = 0; b < 12 / k; b++) {
    const r = again.setup();
    const t0 = now();
    for (let i = 0; i < 20; i++) runStaging(restage(r));
    warmBatches.push((now() - t0) / 20);
    checkStaging(r);
  }

  let recorded = { writes: 0, reads: 0 };
  let checkedRecorder = false;
  const modelTrace = sample(now, {
    warmup: 10 / k,
    samples: 40 / k,
    setup: () => stagingRun(spec, words, true),
    run: runStaging,
    check: (r) => {
      checkStaging(r);
      if (!checkedRecorder) {
        recorded = recordedCounts(r);
        checkedRecorder = true;
      }
    },
  });

  const c = counts!;
  if (recorded.writes !== c.writes || recorded.reads !== c.reads) {
    throw new Error(`MMIO counts ${JSON.stringify(c)} differ from the mmiotrace ${JSON.stringify(recorded)}`);
  }
  return {
    image: image.source,
    blobBytes: blob.totalSize,
    floor: rate(floor, words.length),
    plain: rate(plain, plainWrites),
    model: rate(model, c.writes, modelBatches),
    modelNew: rate(modelNew, c.writes, modelNewBatches),
    modelWarm: rate(modelWarm, c.writes, warmBatches),
    modelTrace: rate(modelTrace, c.writes),
    counts: c,
    recordedWrites: recorded.writes,
    recordedReads: recorded.reads,
  };
}

export interface LateLoadResult {
  image: string;
  run: Rate;
}

/** The last late load's result, checked after the timed region. */
let lastResult: SimulationResult | undefined;

/** Checks the last result and lets it go, so the next timed run does not carry it in its heap. */
function takeResult(c: LateLoadCase): void {
  checkLateLoad(c, lastResult!);
  lastResult = undefined;
}

function caseLateLoad(quick: boolean): LateLoadResult {
  const image = imageFile(process.env.BENCH_FIRMWARE_DIR || undefined);
  const c: LateLoadCase = { machine: 'gnr-2s', firmware: image.bytes, staging: 'auto' };
  const times = sample(now, {
    warmup: 10,
    samples: quick ? 10 : 60,
    setup: () => c,
    run: (x) => {
      lastResult = lateLoad(x);
    },
    check: takeResult,
  });
  return { image: image.source, run: rate(times, 1) };
}

/** Heap use of one run, from V8's GC events during it (v8.GCProfiler). */
export interface RunMemory {
  /** Highest heap use during the run (before any GC in it, or at its end), above the use before it. */
  peakHeapMB: number;
  /** Same for external memory (ArrayBuffers: the staged copies). */
  peakExternalMB: number;
  /** Everything the run allocated on the heap: the growth plus what its GCs freed. */
  allocatedMB: number;
  gcs: number;
  /** Heap + external still used after a full GC with the result alive (what the result keeps). */
  retainedMB: number;
}

export interface MemoryResult {
  /** The first run in a fresh process. */
  cold: RunMemory & { rssBeforeMB: number; peakRssMB: number };
  /** A run after 5 others. */
  warm: RunMemory & { peakRssMB: number };
}

/** Full GCs, then time for V8 to free the collected ArrayBuffers (it sweeps them concurrently). */
async function settle(collect: () => void): Promise<HeapInfo> {
  for (let i = 0; i < 3; i++) {
    collect();
    await new Promise((done) => setTimeout(done, 20));
  }
  const h = getHeapStatistics();
  return { used: h.used_heap_size, external: h.external_memory };
}

interface HeapInfo {
  used: number;
  external: number;
}

async function measureRun(collect: () => void, run: () => SimulationResult): Promise<RunMemory> {
  const before = await settle(collect);
  const profiler = new GCProfiler();
  profiler.start();
  const result = run();
  const end = getHeapStatistics();
  const events = profiler.stop().statistics;
  let peakUsed = Math.max(before.used, end.used_heap_size);
  let peakExternal = Math.max(before.external, end.external_memory);
  let freed = 0;
  for (const e of events) {
    const b = e.beforeGC.heapStatistics;
    const a = e.afterGC.heapStatistics;
    peakUsed = Math.max(peakUsed, b.usedHeapSize);
    peakExternal = Math.max(peakExternal, b.externalMemory);
    freed += b.usedHeapSize - a.usedHeapSize;
  }
  const after = await settle(collect);
  if (result.outcome !== 'updated') throw new Error(`late load ended '${result.outcome}'`);
  return {
    peakHeapMB: (peakUsed - before.used) / MB,
    peakExternalMB: (peakExternal - before.external) / MB,
    allocatedMB: (end.used_heap_size - before.used + freed) / MB,
    gcs: events.length,
    retainedMB: (after.used + after.external - before.used - before.external) / MB,
  };
}

async function caseMemory(): Promise<MemoryResult> {
  const collect = globalThis.gc;
  if (!collect) throw new Error('run with node --expose-gc');
  const image = imageFile(process.env.BENCH_FIRMWARE_DIR || undefined);
  const c: LateLoadCase = { machine: 'gnr-2s', firmware: image.bytes, staging: 'auto' };
  const rssBefore = process.memoryUsage().rss;
  const cold = await measureRun(collect, () => lateLoad(c));
  const coldPeakRss = process.resourceUsage().maxRSS * 1024;
  for (let i = 0; i < 5; i++) checkLateLoad(c, lateLoad(c));
  const warm = await measureRun(collect, () => lateLoad(c));
  return {
    cold: { ...cold, rssBeforeMB: rssBefore / MB, peakRssMB: coldPeakRss / MB },
    warm: { ...warm, peakRssMB: (process.resourceUsage().maxRSS * 1024) / MB },
  };
}

export interface ScalingPoint {
  cpus: number;
  packages: number;
  staged: Summary;
  unstaged: Summary;
}

export interface ScalingResult {
  image: string;
  points: ScalingPoint[];
}

function caseScaling(quick: boolean): ScalingResult {
  const image = imageFile(process.env.BENCH_FIRMWARE_DIR || undefined);
  const points: ScalingPoint[] = [];
  // Warm the JIT on every shape first, so the first shape measured is not the one that compiles everything.
  for (let i = 0; i < 2; i++) {
    for (const shape of SCALING_SHAPES) {
      for (const staging of ['auto', 'off'] as const)
        lateLoad({ machine: shapeMachine(shape), firmware: image.bytes, staging });
    }
  }
  for (const shape of SCALING_SHAPES) {
    const machine = shapeMachine(shape);
    const big = shape.cpus > GROWTH_FROM_CPUS;
    const measure = (staging: 'auto' | 'off'): Summary => {
      const c: LateLoadCase = { machine, firmware: image.bytes, staging };
      return summarize(
        sample(now, {
          warmup: big ? 1 : 2,
          samples: quick ? 3 : big ? 5 : 9,
          setup: () => c,
          run: (x) => {
            lastResult = lateLoad(x);
          },
          check: takeResult,
        }),
      );
    };
    points.push({
      cpus: shape.cpus,
      packages: shape.packages,
      staged: measure('auto'),
      unstaged: measure('off'),
    });
  }
  return { image: image.source, points };
}

export interface ParseResult {
  dir: string;
  synthetic: boolean;
  files: number;
  bytes: number;
  blobs: number;
  rejectedFiles: number;
  zeroCopy: boolean;
  run: Rate;
}

function caseParse(quick: boolean): ParseResult {
  const dir = process.env.BENCH_PARSE_DIR;
  if (!dir) throw new Error('BENCH_PARSE_DIR not set');
  const files = folderFiles(dir);
  let totals = parseAll(files);
  const times = sample(now, {
    warmup: 10,
    samples: quick ? 15 : 60,
    setup: () => files,
    run: (f) => {
      totals = parseAll(f);
    },
  });
  return {
    dir,
    synthetic: process.env.BENCH_PARSE_SYNTHETIC === '1',
    ...totals,
    run: rate(times, totals.bytes),
  };
}

export interface CampaignResult {
  runs: number;
  executions: number;
  wallMs: number;
  runsPerSecond: number;
  failing: number;
  outcomes: Record<string, number>;
}

function caseCampaign(quick: boolean): CampaignResult {
  const runs = quick ? 2_000 : 10_000;
  const report = campaign(runs, 1, now);
  return {
    runs,
    executions: runs + report.determinismChecks,
    wallMs: report.wallMs,
    runsPerSecond: runs / (report.wallMs / 1000),
    failing: report.failingCount,
    outcomes: report.outcomes,
  };
}

export const CASES = {
  'hot-path': caseHotPath,
  'late-load': caseLateLoad,
  memory: caseMemory,
  scaling: caseScaling,
  parse: caseParse,
  campaign: caseCampaign,
  fleet: caseFleet,
} as const;
export type CaseName = keyof typeof CASES;
