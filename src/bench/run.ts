/**
 * `npm run bench`: the benchmark suite (BENCHMARKS.md says what each one measures).
 *
 *   node --expose-gc dist/bench/run.js [--only a,b] [--quick] [--json FILE]
 *   node --expose-gc dist/bench/run.js --case NAME         one benchmark, JSON on stdout
 *   node dist/bench/run.js --summarize-profile F.cpuprofile [--top N]   self time per function
 *
 * Benchmarks (--only): hot-path, late-load, memory, scaling, parse, cli, campaign.
 *
 * The Node entry: it finds the microcode files, runs each benchmark in a fresh
 * child process (`--case NAME`, so one benchmark's JIT state and heap do not
 * leak into the next) and prints the results table. The measured code lives in
 * the other modules of this folder and uses no Node API.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { parseMachineSpec } from '../platform/machine-spec.js';
import { PRESETS } from '../platform/presets.js';
import type { SimulationResult } from '../sim/result-types.js';
import { campaign } from './campaign.js';
import { type Clock, sample } from './harness.js';
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
import { blobWords, largestBlob, REAL_IMAGE_NAME, syntheticGnrFile } from './images.js';
import { checkLateLoad, type LateLoadCase, lateLoad, SCALING_SHAPES, shapeMachine } from './late-load.js';
import { parseAll } from './parse.js';
import { fitPowerLaw, type Summary, summarize } from './stats.js';

const now: Clock = () => performance.now();
const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const CLI = join(REPO, 'dist/cli/main.js');

// ---- inputs ---------------------------------------------------------------

interface Firmware {
  /** Folder of microcode files, if one was found. */
  dir: string | undefined;
  /** Where the folder came from, for the report. */
  dirSource: string;
}

function findFirmware(): Firmware {
  const fromEnv = process.env.UCODE_FIRMWARE_DIR;
  if (fromEnv) {
    return isDir(fromEnv)
      ? { dir: resolve(fromEnv), dirSource: 'UCODE_FIRMWARE_DIR' }
      : { dir: undefined, dirSource: `UCODE_FIRMWARE_DIR=${fromEnv} is not a folder` };
  }
  const shared = resolve(REPO, '../shared/intel-microcode/intel-ucode');
  if (isDir(shared)) return { dir: shared, dirSource: '../shared/intel-microcode/intel-ucode' };
  if (isDir('/lib/firmware/intel-ucode'))
    return { dir: '/lib/firmware/intel-ucode', dirSource: '/lib/firmware/intel-ucode' };
  return { dir: undefined, dirSource: 'no microcode folder found' };
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** 06-ad-01 from the folder, or a synthetic file of the same size (two blobs of the same sizes). */
function imageFile(dir: string | undefined): { bytes: Uint8Array; source: string } {
  const path = dir ? join(dir, REAL_IMAGE_NAME) : undefined;
  if (path && existsSync(path)) {
    const b = readFileSync(path);
    return { bytes: new Uint8Array(b.buffer, b.byteOffset, b.length), source: `real ${REAL_IMAGE_NAME}` };
  }
  return { bytes: syntheticGnrFile(), source: `synthetic stand-in for ${REAL_IMAGE_NAME} (file absent)` };
}

/** Every regular file of the folder, by name, each in its own buffer. */
function folderFiles(dir: string): Uint8Array[] {
  return readdirSync(dir)
    .sort()
    .map((name) => join(dir, name))
    .filter((p) => statSync(p).isFile())
    .map((p) => {
      const b = readFileSync(p);
      return new Uint8Array(b.buffer, b.byteOffset, b.length);
    });
}

// ---- the cases (each runs in its own process) -----------------------------

interface Rate {
  /** Median wall time of one run, ms. */
  ms: Summary;
  /** Units per second at the median. */
  perSecond: number;
}

function rate(times: number[], units: number): Rate {
  const ms = summarize(times);
  return { ms, perSecond: units / (ms.median / 1000) };
}

interface HotPathResult {
  image: string;
  blobBytes: number;
  floor: Rate;
  plain: Rate;
  model: Rate;
  /** Re-staging on the same machine: the device buffer is already paged in. */
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
  const model = sample(now, {
    warmup: 30 / k,
    samples: 240 / k,
    setup: () => stagingRun(spec, words, false),
    run: runStaging,
    check: (r) => {
      checkStaging(r);
      counts = mmioCounts(r.record);
    },
  });

  // Steady state: the same machine stages again, so the device's reassembly
  // buffer is already paged in (a fresh one costs first-touch page faults).
  let warmRun: StagingRun | undefined;
  const modelWarm = sample(now, {
    warmup: 30 / k,
    samples: 240 / k,
    setup: () => {
      warmRun = warmRun ? restage(warmRun) : stagingRun(spec, words, false);
      return warmRun;
    },
    run: runStaging,
    check: (r) => checkStaging(r),
  });

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
    model: rate(model, c.writes),
    modelWarm: rate(modelWarm, c.writes),
    modelTrace: rate(modelTrace, c.writes),
    counts: c,
    recordedWrites: recorded.writes,
    recordedReads: recorded.reads,
  };
}

interface LateLoadResult {
  image: string;
  run: Rate;
}

/** The last late load's result, checked after the timed region. */
let lastResult: SimulationResult | undefined;

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
    check: (x) => checkLateLoad(x, lastResult!),
  });
  return { image: image.source, run: rate(times, 1) };
}

/** Heap use of one run, from V8's GC events during it (v8.GCProfiler). */
interface RunMemory {
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

interface MemoryResult {
  /** The first run in a fresh process. */
  cold: RunMemory & { rssBeforeMB: number; peakRssMB: number };
  /** A run after 5 others. */
  warm: RunMemory & { peakRssMB: number };
}

const MB = 1024 * 1024;

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

interface ScalingPoint {
  cpus: number;
  packages: number;
  staged: Summary;
  unstaged: Summary;
}

interface ScalingResult {
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
    const measure = (staging: 'auto' | 'off'): Summary => {
      const c: LateLoadCase = { machine, firmware: image.bytes, staging };
      return summarize(
        sample(now, {
          warmup: 2,
          samples: quick ? 3 : 9,
          setup: () => c,
          run: (x) => {
            lastResult = lateLoad(x);
          },
          check: (x) => checkLateLoad(x, lastResult!),
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

interface ParseResult {
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

interface CampaignResult {
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

const CASES = {
  'hot-path': caseHotPath,
  'late-load': caseLateLoad,
  memory: caseMemory,
  scaling: caseScaling,
  parse: caseParse,
  campaign: caseCampaign,
} as const;
type CaseName = keyof typeof CASES;

// ---- the parent: processes, the CLI comparison, the table -------------------

interface CliTiming {
  tool: 'hyperfine' | 'spawnSync';
  runs: number;
  inspectMs: Summary;
  iucodeMs: Summary | undefined;
  iucodeVersion: string | undefined;
}

/** Functions V8 deoptimized at least this often in one benchmark: a deopt loop, not warm-up. */
const DEOPT_LOOP = 20;

/** Runs `--case name` in a fresh process (with --trace-deopt, to spot deopt loops); its last stdout line is the JSON result. */
function runChild<T>(
  name: CaseName,
  env: Record<string, string>,
  quick: boolean,
  deopts: Results['deoptLoops'],
): T {
  const args = ['--expose-gc', '--trace-deopt', fileURLToPath(import.meta.url), '--case', name];
  if (quick) args.push('--quick');
  process.stderr.write(`bench: ${name} ...\n`);
  const t0 = now();
  const r = spawnSync(process.execPath, args, {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * MB,
  });
  if (r.status !== 0) throw new Error(`benchmark '${name}' failed (exit ${r.status ?? r.signal})`);
  process.stderr.write(`bench: ${name} done in ${((now() - t0) / 1000).toFixed(1)} s\n`);
  const lines = r.stdout.trim().split('\n');
  const counts = new Map<string, number>();
  for (const line of lines) {
    const m = /^\[bailout .*deoptimizing 0x[0-9a-f]+ <JSFunction ([^ >]*)/.exec(line);
    if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  }
  for (const [fn, n] of counts) if (n >= DEOPT_LOOP) deopts.push({ bench: name, fn, deopts: n });
  const parsed: unknown = JSON.parse(lines[lines.length - 1]!);
  return parsed as T;
}

function which(cmd: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(':')) {
    const p = join(d, cmd);
    if (d && existsSync(p)) return p;
  }
  return undefined;
}

function shellQuote(s: string): string {
  return /^[\w./@:=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `inspect <dir>` as a process, and `iucode_tool -l <dir>` when installed: hyperfine if present, else spawnSync. */
function timeCli(dir: string, quick: boolean): CliTiming {
  const iucode = which('iucode_tool');
  const inspectCmd = [process.execPath, CLI, 'inspect', dir];
  const iucodeCmd = iucode ? [iucode, '-l', dir] : undefined;
  const runs = quick ? 5 : 20;
  const check = spawnSync(inspectCmd[0]!, inspectCmd.slice(1), { encoding: 'utf8', maxBuffer: 64 * MB });
  if (check.status !== 0 && check.status !== 1) throw new Error(`inspect failed: exit ${check.status}`);
  let iucodeVersion: string | undefined;
  if (iucode) {
    const v = spawnSync(iucode, ['--version'], { encoding: 'utf8' });
    iucodeVersion = `${v.stdout}${v.stderr}`.trim().split('\n')[0];
  }

  const hyperfine = which('hyperfine');
  if (hyperfine) {
    const out = join(mkdtempSync(join(tmpdir(), 'ucode-bench-')), 'hyperfine.json');
    const cmds = [inspectCmd, ...(iucodeCmd ? [iucodeCmd] : [])].map((c) => c.map(shellQuote).join(' '));
    const r = spawnSync(
      hyperfine,
      ['-N', '--warmup', '3', '--runs', String(runs), '--style', 'none', '-i', '--export-json', out, ...cmds],
      { encoding: 'utf8', stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (r.status === 0) {
      const parsed: unknown = JSON.parse(readFileSync(out, 'utf8'));
      const results = (parsed as { results: { times: number[] }[] }).results;
      rmSync(dirname(out), { recursive: true, force: true });
      const ms = (i: number): Summary => summarize(results[i]!.times.map((s) => s * 1000));
      return {
        tool: 'hyperfine',
        runs,
        inspectMs: ms(0),
        iucodeMs: iucodeCmd ? ms(1) : undefined,
        iucodeVersion,
      };
    }
    process.stderr.write('bench: hyperfine failed; timing the commands with spawnSync\n');
  }
  const time = (cmd: string[]): Summary => {
    const times: number[] = [];
    for (let i = 0; i < runs + 3; i++) {
      const t0 = now();
      spawnSync(cmd[0]!, cmd.slice(1), { stdio: 'ignore' });
      if (i >= 3) times.push(now() - t0);
    }
    return summarize(times);
  };
  return {
    tool: 'spawnSync',
    runs,
    inspectMs: time(inspectCmd),
    iucodeMs: iucodeCmd ? time(iucodeCmd) : undefined,
    iucodeVersion,
  };
}

interface Results {
  env: {
    cpu: string;
    cores: number;
    node: string;
    v8: string;
    loadBefore: number[];
    loadAfter: number[];
    firmwareDir: string;
    date: string;
  };
  hotPath?: HotPathResult;
  lateLoad?: LateLoadResult;
  memory?: MemoryResult;
  scaling?: ScalingResult;
  parse?: ParseResult;
  cli?: CliTiming;
  campaign?: CampaignResult;
  /** Functions deoptimized again and again in a benchmark's process (V8 --trace-deopt). */
  deoptLoops: { bench: string; fn: string; deopts: number }[];
  wallSeconds: number;
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown';
}

const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
const mrate = (x: number): string => `${f1(x / 1e6)} M/s`;
const pass = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

/** The results table (Markdown), the one BENCHMARKS.md shows. */
function table(r: Results): string {
  const rows: string[][] = [];
  const h = r.hotPath;
  if (h) {
    rows.push([
      '1',
      'floor: dword-by-dword copy into a Uint32Array',
      `${mrate(h.floor.perSecond)} dwords`,
      '1 (baseline)',
      '-',
      '-',
    ]);
    rows.push([
      '1',
      'reference: the protocol as one plain JS loop',
      `${mrate(h.plain.perSecond)} writes`,
      `${f2(h.plain.perSecond / h.floor.perSecond)} x floor`,
      '-',
      '-',
    ]);
    rows.push([
      '1',
      'mailbox hot path, trace off (driver -> Machine -> bus -> device), steady state',
      `${mrate(h.modelWarm.perSecond)} writes (${f2(h.modelWarm.ms.median)} ms / package; p10 ${mrate(h.counts.writes / (h.modelWarm.ms.p10 / 1000))})`,
      `${f2(h.modelWarm.perSecond / h.floor.perSecond)} x floor, ${f2(h.modelWarm.perSecond / h.plain.perSecond)} x plain loop`,
      '>= 150 M/s',
      pass(h.modelWarm.perSecond >= 150e6),
    ]);
    rows.push([
      '1',
      'same, first staging on a fresh machine (new 1.6 MB device buffer)',
      `${mrate(h.model.perSecond)} writes (${f2(h.model.ms.median)} ms / package; p10 ${mrate(h.counts.writes / (h.model.ms.p10 / 1000))})`,
      `${f2(h.model.perSecond / h.floor.perSecond)} x floor, ${f2(h.model.perSecond / h.plain.perSecond)} x plain loop`,
      '-',
      '-',
    ]);
    rows.push([
      '1',
      'mailbox hot path, mmiotrace recording on',
      `${mrate(h.modelTrace.perSecond)} writes (${f2(h.modelTrace.ms.median)} ms / package)`,
      `${f2(h.modelTrace.ms.median / h.model.ms.median)} x the time of trace off`,
      '-',
      '-',
    ]);
  }
  if (r.lateLoad) {
    const l = r.lateLoad.run.ms;
    rows.push([
      '2',
      'whole late load, gnr-2s (512 CPUs, 2 packages staged), warm',
      `${f1(l.median)} ms (p10 ${f1(l.p10)}, p90 ${f1(l.p90)}); ${(1000 / l.median).toFixed(0)} loads/s`,
      h ? `of which 2 x doStage() of case 1 = ${f1(2 * h.model.ms.median)} ms` : '-',
      '< 50 ms',
      pass(l.median < 50),
    ]);
  }
  if (r.memory) {
    const m = r.memory.warm;
    rows.push([
      '2',
      'memory of that load (warm run; V8 GC events)',
      `peak heap +${f1(m.peakHeapMB)} MB, buffers +${f1(m.peakExternalMB)} MB; ${f1(m.allocatedMB)} MB allocated, ${m.gcs} GCs; retained ${f1(Math.max(0, m.retainedMB))} MB`,
      `process peak RSS ${f1(m.peakRssMB)} MB; cold first run: RSS ${f1(r.memory.cold.rssBeforeMB)} -> ${f1(r.memory.cold.peakRssMB)} MB`,
      '-',
      '-',
    ]);
  }
  if (r.scaling) {
    const pts = r.scaling.points;
    const staged = fitPowerLaw(
      pts.map((p) => p.cpus),
      pts.map((p) => p.staged.median),
    );
    const big = pts[pts.length - 1]!;
    rows.push([
      '3',
      `late load vs CPUs (${pts.map((p) => p.cpus).join(', ')}): fitted exponent`,
      `${f2(staged.exponent)} (R^2 ${f2(staged.r2)})`,
      `times ${pts.map((p) => f1(p.staged.median)).join(' / ')} ms`,
      '<= 1.1',
      pass(staged.exponent <= 1.1),
    ]);
    rows.push([
      '3',
      `late load, ${big.cpus} CPUs`,
      `${f1(big.staged.median)} ms`,
      '-',
      '< 1 s',
      pass(big.staged.median < 1000),
    ]);
  }
  if (r.parse) {
    const p = r.parse;
    const mbps = p.run.perSecond / 1e6;
    rows.push([
      '4',
      `parse + validate ${p.files} file${p.files === 1 ? '' : 's'} (${f1(p.bytes / 1e6)} MB, ${p.blobs} blobs)${p.synthetic ? ' [synthetic]' : ''}`,
      `${mbps.toFixed(0)} MB/s (${f2(p.run.ms.median)} ms)`,
      p.zeroCopy ? 'zero-copy: yes' : 'zero-copy: NO',
      '>= 1000 MB/s',
      pass(mbps >= 1000 && p.zeroCopy),
    ]);
  }
  if (r.cli) {
    const c = r.cli;
    rows.push([
      '4',
      `\`inspect <folder>\` as a process vs \`iucode_tool -l\` (${c.tool}, ${c.runs} runs)`,
      `${f1(c.inspectMs.median)} ms`,
      c.iucodeMs
        ? `iucode_tool ${f1(c.iucodeMs.median)} ms (${f1(c.inspectMs.median / c.iucodeMs.median)} x)`
        : 'iucode_tool not installed',
      '-',
      '-',
    ]);
  }
  if (r.campaign) {
    const c = r.campaign;
    rows.push([
      '5',
      `fault campaign, ${c.runs.toLocaleString('en')} seeded runs (<= 2x2x2 CPUs, 16 KB image)`,
      `${c.runsPerSecond.toFixed(0)} runs/s (${f1(c.wallMs / 1000)} s)`,
      `${c.executions.toLocaleString('en')} simulate() calls, ${c.failing} failing`,
      '-',
      '-',
    ]);
  }
  const header = ['#', 'measurement', 'result', 'vs baseline', 'target', 'pass'];
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function scalingTable(s: ScalingResult): string {
  const pts = s.points;
  const staged = fitPowerLaw(
    pts.map((p) => p.cpus),
    pts.map((p) => p.staged.median),
  );
  const unstaged = fitPowerLaw(
    pts.map((p) => p.cpus),
    pts.map((p) => p.unstaged.median),
  );
  const rows = pts.map(
    (p) =>
      `| ${p.cpus} | ${p.packages} | ${f1(p.staged.median)} | ${f1(p.unstaged.median)} | ${f2((p.staged.median - p.unstaged.median) / p.packages)} | ${f2((p.unstaged.median * 1000) / p.cpus)} |`,
  );
  return [
    '| CPUs | packages | late load, staged (ms) | same, staging off (ms) | staging cost / package (ms) | rest / CPU (us) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Fitted exponent (time ~ CPUs^b, least squares on log-log): staged b = ${f2(staged.exponent)} (R^2 ${f2(staged.r2)}), staging off b = ${f2(unstaged.exponent)} (R^2 ${f2(unstaged.r2)}).`,
  ].join('\n');
}

function details(r: Results): string {
  const out: string[] = [];
  const h = r.hotPath;
  if (h) {
    const c = h.counts;
    out.push(
      `Hot path: image ${h.image}, largest blob ${h.blobBytes.toLocaleString('en')} bytes; one package's doStage() = ${c.writes.toLocaleString('en')} MMIO writes (${c.wrdata.toLocaleString('en')} WRDATA) + ${c.reads.toLocaleString('en')} reads (the mmiotrace recorder saw ${h.recordedWrites.toLocaleString('en')} + ${h.recordedReads.toLocaleString('en')}).`,
      `  median ms: floor ${f2(h.floor.ms.median)}, plain loop ${f2(h.plain.ms.median)}, model ${f2(h.model.ms.median)} (p10 ${f2(h.model.ms.p10)}, p90 ${f2(h.model.ms.p90)}), model+trace ${f2(h.modelTrace.ms.median)}`,
    );
  }
  if (r.lateLoad) out.push(`Late load: image ${r.lateLoad.image}.`);
  if (r.memory) {
    const m = r.memory.cold;
    out.push(
      `Memory, cold first run (JIT compiling as it goes): peak heap +${f1(m.peakHeapMB)} MB, buffers +${f1(m.peakExternalMB)} MB, ${f1(m.allocatedMB)} MB allocated, ${m.gcs} GCs; RSS ${f1(m.rssBeforeMB)} MB before, peak ${f1(m.peakRssMB)} MB.`,
    );
  }
  if (r.scaling) out.push('', scalingTable(r.scaling), '');
  if (r.parse)
    out.push(
      `Parse: ${r.parse.dir}${r.parse.synthetic ? ' (synthetic: no microcode folder found)' : ''}, ${r.parse.rejectedFiles} files rejected.`,
    );
  if (r.cli) {
    const c = r.cli;
    out.push(
      `CLI: inspect median ${f1(c.inspectMs.median)} ms (min ${f1(c.inspectMs.min)}), iucode_tool ${c.iucodeMs ? `${f1(c.iucodeMs.median)} ms (min ${f1(c.iucodeMs.min)}; ${c.iucodeVersion ?? ''})` : 'absent'}.`,
    );
  }
  if (r.campaign) out.push(`Campaign outcomes: ${JSON.stringify(r.campaign.outcomes)}.`);
  out.push(
    r.deoptLoops.length === 0
      ? `V8 deopt loops (a function deoptimized ${DEOPT_LOOP}+ times in one benchmark): none.`
      : `V8 deopt loops (a function deoptimized ${DEOPT_LOOP}+ times in one benchmark): ${r.deoptLoops.map((d) => `${d.bench}: ${d.fn} x${d.deopts}`).join('; ')}.`,
  );
  return out.join('\n');
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function of a `node --cpu-prof` profile, the top `top` lines. */
function summarizeProfile(file: string, top: number): string {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const p = parsed as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const cf = byId.get(p.samples[i]!)!.callFrame;
    const where = cf.url ? `${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(
      ([k, us]) =>
        `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`,
    )
    .join('\n');
}

async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const profAt = argv.indexOf('--summarize-profile');
  if (profAt >= 0) {
    const topAt = argv.indexOf('--top');
    process.stdout.write(
      `${summarizeProfile(argv[profAt + 1]!, topAt >= 0 ? Number(argv[topAt + 1]) : 25)}\n`,
    );
    return;
  }
  const caseAt = argv.indexOf('--case');
  if (caseAt >= 0) {
    const name = argv[caseAt + 1] as CaseName;
    const fn = CASES[name];
    if (!fn) throw new Error(`unknown case '${name}'`);
    process.stdout.write(`${JSON.stringify(await fn(quick))}\n`);
    return;
  }
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? new Set(argv[onlyAt + 1]!.split(',')) : undefined;
  const want = (n: string): boolean => !only || only.has(n);
  const jsonAt = argv.indexOf('--json');
  const started = now();

  const fw = findFirmware();
  let parseDir = fw.dir;
  let syntheticDir: string | undefined;
  if (!parseDir) {
    syntheticDir = mkdtempSync(join(tmpdir(), 'ucode-bench-fw-'));
    writeFileSync(join(syntheticDir, REAL_IMAGE_NAME), syntheticGnrFile());
    parseDir = syntheticDir;
  }
  const env = {
    BENCH_FIRMWARE_DIR: fw.dir ?? '',
    BENCH_PARSE_DIR: parseDir,
    BENCH_PARSE_SYNTHETIC: syntheticDir ? '1' : '0',
  };
  const results: Results = {
    env: {
      cpu: cpuModel(),
      cores: cpus().length,
      node: process.version,
      v8: process.versions.v8,
      loadBefore: loadavg(),
      loadAfter: [],
      firmwareDir: fw.dir ? `${fw.dir} (${fw.dirSource})` : `${fw.dirSource}: synthetic images`,
      date: new Date().toISOString(),
    },
    deoptLoops: [],
    wallSeconds: 0,
  };
  try {
    if (want('hot-path'))
      results.hotPath = runChild<HotPathResult>('hot-path', env, quick, results.deoptLoops);
    if (want('late-load'))
      results.lateLoad = runChild<LateLoadResult>('late-load', env, quick, results.deoptLoops);
    if (want('memory')) results.memory = runChild<MemoryResult>('memory', env, quick, results.deoptLoops);
    if (want('scaling')) results.scaling = runChild<ScalingResult>('scaling', env, quick, results.deoptLoops);
    if (want('parse')) results.parse = runChild<ParseResult>('parse', env, quick, results.deoptLoops);
    if (want('cli')) {
      process.stderr.write('bench: cli ...\n');
      results.cli = timeCli(parseDir, quick);
    }
    if (want('campaign'))
      results.campaign = runChild<CampaignResult>('campaign', env, quick, results.deoptLoops);
  } finally {
    if (syntheticDir) rmSync(syntheticDir, { recursive: true, force: true });
  }
  results.env.loadAfter = loadavg();
  results.wallSeconds = (now() - started) / 1000;

  const e = results.env;
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  process.stdout.write(
    [
      `ucode-staging benchmarks, ${e.date}`,
      `CPU: ${e.cpu}, ${e.cores} cores; Node ${e.node} (V8 ${e.v8}); load average ${load(e.loadBefore)} -> ${load(e.loadAfter)}`,
      `Microcode: ${e.firmwareDir}`,
      '',
      table(results),
      '',
      details(results),
      '',
      `Total ${results.wallSeconds.toFixed(1)} s.`,
      '',
    ].join('\n'),
  );
  if (jsonAt >= 0) writeFileSync(argv[jsonAt + 1]!, `${JSON.stringify(results, null, 2)}\n`);
}

await main(process.argv.slice(2));
