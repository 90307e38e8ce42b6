/**
 * The results as text: the Markdown table BENCHMARKS.md shows, the details
 * under it, and a CPU profile's self time per function. Pure: no Node API.
 */
import { formatTable, type TableColumn } from '../output/table.js';
import type {
  CampaignResult,
  HotPathResult,
  LateLoadResult,
  MemoryResult,
  ParseResult,
  Rate,
  ScalingResult,
} from './cases.js';
import { GROWTH_FROM_CPUS } from './late-load.js';
import {
  type CampaignJobsTiming,
  type CliTiming,
  DEOPT_LOOP,
  type DeoptLoop,
  type ProcessTiming,
} from './processes.js';
import { fitPowerLaw, type PowerFit } from './stats.js';

export interface Results {
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
  /** The library's first simulate() in a fresh process. */
  startup?: ProcessTiming;
  scaling?: ScalingResult;
  /** A process simulating 65,536 CPUs. */
  big?: ProcessTiming;
  parse?: ParseResult;
  cli?: CliTiming;
  campaign?: CampaignResult;
  /** The campaign command as a process with one and two worker threads. */
  campaignJobs?: CampaignJobsTiming;
  /** Functions deoptimized again and again in a benchmark's process (V8 --trace-deopt). */
  deoptLoops: DeoptLoop[];
  wallSeconds: number;
}

const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
const mrate = (x: number): string => `${f1(x / 1e6)} M/s`;
const pass = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

/** The targets `npm run bench` judges (issue 5/9). */
export const TARGETS = {
  /** Re-staging one machine, median MMIO writes per second. */
  restageRate: 500e6,
  /** A package's staging on a fresh machine, median MMIO writes per second. */
  freshRate: 300e6,
  /** gnr-2s late load, warm, ms. */
  lateLoadMs: 50,
  /** The first simulate() (defaults) in a fresh process, ms. */
  firstCallMs: 30,
  /** A whole process simulating 65,536 CPUs: wall ms and peak RSS MB. */
  bigProcessMs: 500,
  bigProcessMB: 250,
  /** Growth of the late load's time from 8,192 to 65,536 CPUs: fitted exponent. */
  growthExponent: 1.1,
  parseMBps: 1000,
  /** `simulate -q` (the default run) and `inspect <folder>` as processes: ms over `node -e 0`. */
  simulateOverNodeMs: 60,
  inspectOverNodeMs: 25,
  /** `campaign --jobs 2` against `--jobs 1`: speed-up on two cores. */
  campaignSpeedup: 1.8,
  /** `node -e 0` on the VM when the targets were set, ms (the host's speed then). */
  nodeMsWhenSet: 60,
} as const;

/**
 * A time measured on a host whose `node -e 0` took `nodeMs`, scaled to the host the targets
 * were set on: the VM's host changes speed 2x within an hour, and CPU-bound work moves with
 * it. Shown beside a row, never used to pass one.
 */
function atTargetHost(ms: number, nodeMs: number): number {
  return (ms * TARGETS.nodeMsWhenSet) / nodeMs;
}

const RESULT_COLUMNS: readonly TableColumn[] = [
  { header: '#' },
  { header: 'measurement' },
  { header: 'now' },
  { header: 'detail' },
  { header: 'target' },
  { header: 'pass' },
];

/** A hot-path run of the model: its rate (median, batch mean), and how it compares with the two loops. */
function modelCells(h: HotPathResult, run: Rate): [string, string] {
  const batch = run.batchPerSecond !== undefined ? `; batch mean ${mrate(run.batchPerSecond)}` : '';
  return [
    `${mrate(run.perSecond)} (${f2(run.ms.median)} ms / package; p10 ${mrate(h.counts.writes / (run.ms.p10 / 1000))}${batch})`,
    `${f2(run.perSecond / h.floor.perSecond)} x floor, ${f2(run.perSecond / h.plain.perSecond)} x plain loop`,
  ];
}

/** The exponent of the staged late load's growth over the shapes from GROWTH_FROM_CPUS up. */
export function growthFit(s: ScalingResult): PowerFit | undefined {
  const pts = s.points.filter((p) => p.cpus >= GROWTH_FROM_CPUS);
  if (pts.length < 2) return undefined;
  return fitPowerLaw(
    pts.map((p) => p.cpus),
    pts.map((p) => p.staged.median),
  );
}

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
      'mailbox hot path, re-staging one machine (MMIO writes/s)',
      ...modelCells(h, h.modelWarm),
      `>= ${TARGETS.restageRate / 1e6} M/s`,
      pass(h.modelWarm.perSecond >= TARGETS.restageRate),
    ]);
    rows.push([
      '1',
      'same, a package on a fresh machine (the image staged before in the process)',
      ...modelCells(h, h.model),
      `>= ${TARGETS.freshRate / 1e6} M/s`,
      pass(h.model.perSecond >= TARGETS.freshRate),
    ]);
    rows.push([
      '1',
      "same, a fresh machine and nothing staged before (a process's first staging: new buffer, checksum)",
      ...modelCells(h, h.modelNew),
      `>= ${TARGETS.freshRate / 1e6} M/s`,
      pass(h.modelNew.perSecond >= TARGETS.freshRate),
    ]);
    rows.push([
      '1',
      'same, mmiotrace recording on (every dword through writel())',
      `${mrate(h.modelTrace.perSecond)} (${f2(h.modelTrace.ms.median)} ms / package)`,
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
      `${f1(l.median)} ms (p10 ${f1(l.p10)}, p90 ${f1(l.p90)})`,
      `${(1000 / l.median).toFixed(0)} loads/s`,
      `< ${TARGETS.lateLoadMs} ms`,
      pass(l.median < TARGETS.lateLoadMs),
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
  if (r.startup) {
    const t = r.startup;
    rows.push([
      '2',
      'first simulate() in a fresh process (defaults: gnr-2s, synthetic image)',
      `${f1(t.firstMs.median)} ms (p90 ${f1(t.firstMs.p90)})`,
      `library import ${f1(t.importMs.median)} ms; process ${f1(t.wallMs.median)} ms vs node -e 0 ${f1(t.nodeMs.median)} ms; ${t.runs} rounds; ${f1(atTargetHost(t.firstMs.median, t.nodeMs.median))} ms scaled to the targets' host`,
      `<= ${TARGETS.firstCallMs} ms`,
      pass(t.firstMs.median <= TARGETS.firstCallMs),
    ]);
  }
  if (r.scaling) {
    const pts = r.scaling.points;
    const growth = growthFit(r.scaling);
    const grown = pts.filter((p) => p.cpus >= GROWTH_FROM_CPUS);
    if (growth) {
      rows.push([
        '3',
        `late load vs CPUs (${grown.map((p) => p.cpus).join(', ')}; packages grow with CPUs): fitted exponent`,
        `${f2(growth.exponent)} (R^2 ${f2(growth.r2)})`,
        `times ${grown.map((p) => f1(p.staged.median)).join(' / ')} ms`,
        `<= ${TARGETS.growthExponent}`,
        pass(growth.exponent <= TARGETS.growthExponent),
      ]);
    }
    const big = pts[pts.length - 1]!;
    rows.push([
      '3',
      `late load, ${big.cpus} CPUs, in a warm process`,
      `${f1(big.staged.median)} ms`,
      `staging off ${f1(big.unstaged.median)} ms`,
      '-',
      '-',
    ]);
  }
  if (r.big) {
    const b = r.big;
    rows.push([
      '3',
      `${b.cpus.toLocaleString('en')} CPUs, whole process (start, import, simulate(), exit)`,
      `${f2(b.wallMs.median / 1000)} s, peak RSS ${f1(b.peakRssMB.median)} MB`,
      `simulate() ${f1(b.firstMs.median)} ms, import ${f1(b.importMs.median)} ms; node -e 0 ${f2(b.nodeMs.median / 1000)} s; ${b.runs} rounds; ${f2(atTargetHost(b.wallMs.median, b.nodeMs.median) / 1000)} s scaled to the targets' host`,
      `<= ${TARGETS.bigProcessMs / 1000} s, <= ${TARGETS.bigProcessMB} MB`,
      pass(b.wallMs.median <= TARGETS.bigProcessMs && b.peakRssMB.median <= TARGETS.bigProcessMB),
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
      `>= ${TARGETS.parseMBps} MB/s`,
      pass(mbps >= TARGETS.parseMBps && p.zeroCopy),
    ]);
  }
  if (r.cli) {
    const c = r.cli;
    const overNode = (x: number) => `node + ${f1(x - c.nodeMs.median)} ms`;
    rows.push([
      '4',
      `\`simulate -q\` as a process, the default run (${c.runs} rounds with node -e 0)`,
      `${f1(c.simulateMs.median)} ms (${overNode(c.simulateMs.median)})`,
      `node -e 0 ${f1(c.nodeMs.median)} ms; p90 ${f1(c.simulateMs.p90)} ms`,
      `<= node + ${TARGETS.simulateOverNodeMs} ms`,
      pass(c.simulateMs.median - c.nodeMs.median <= TARGETS.simulateOverNodeMs),
    ]);
    rows.push([
      '4',
      `\`inspect <folder>\` as a process (${c.runs} rounds with node -e 0${c.iucodeMs ? ' and iucode_tool -l' : ''})`,
      `${f1(c.inspectMs.median)} ms (${overNode(c.inspectMs.median)})`,
      `node -e 0 ${f1(c.nodeMs.median)} ms; ${
        c.iucodeMs
          ? `iucode_tool ${f1(c.iucodeMs.median)} ms (${f1(c.inspectMs.median / c.iucodeMs.median)} x)`
          : 'iucode_tool not installed'
      }`,
      `<= node + ${TARGETS.inspectOverNodeMs} ms`,
      pass(c.inspectMs.median - c.nodeMs.median <= TARGETS.inspectOverNodeMs),
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
  if (r.campaignJobs) {
    const j = r.campaignJobs;
    const speedup = j.oneMs.median / j.twoMs.median;
    rows.push([
      '5',
      `\`campaign --runs ${j.runs.toLocaleString('en')}\` as a process, \`--jobs 2\` against \`--jobs 1\``,
      `${f2(speedup)} x (${f1(j.runs / (j.twoMs.median / 1000))} runs/s)`,
      `--jobs 1 ${f2(j.oneMs.median / 1000)} s, --jobs 2 ${f2(j.twoMs.median / 1000)} s; ${j.rounds} rounds`,
      `>= ${TARGETS.campaignSpeedup} x on 2 cores`,
      pass(speedup >= TARGETS.campaignSpeedup),
    ]);
    const ceiling = j.oneMs.median / j.shardsMs.median;
    rows.push([
      '5',
      'same runs as two `--jobs 1 --shard K/2` processes side by side (what two cores give at best)',
      `${f2(ceiling)} x`,
      `${f2(j.shardsMs.median / 1000)} s; \`--jobs 2\` reaches ${((100 * speedup) / ceiling).toFixed(0)} % of it`,
      '-',
      '-',
    ]);
  }
  return formatTable(RESULT_COLUMNS, rows, { style: 'markdown' }).join('\n');
}

const SCALING_COLUMNS: readonly TableColumn[] = [
  'CPUs',
  'packages',
  'late load, staged (ms)',
  'same, staging off (ms)',
  'staging cost / package (ms)',
  'rest / CPU (us)',
].map((header): TableColumn => ({ header, align: 'right' }));

function scalingTable(s: ScalingResult): string {
  const pts = s.points.filter((p) => p.cpus >= GROWTH_FROM_CPUS);
  const staged = growthFit(s);
  const unstaged =
    pts.length >= 2
      ? fitPowerLaw(
          pts.map((p) => p.cpus),
          pts.map((p) => p.unstaged.median),
        )
      : undefined;
  const rows = s.points.map((p) => [
    String(p.cpus),
    String(p.packages),
    f1(p.staged.median),
    f1(p.unstaged.median),
    f2((p.staged.median - p.unstaged.median) / p.packages),
    f2((p.unstaged.median * 1000) / p.cpus),
  ]);
  return [
    ...formatTable(SCALING_COLUMNS, rows, { style: 'markdown' }),
    '',
    staged && unstaged
      ? `Fitted exponent from ${GROWTH_FROM_CPUS} CPUs up (time ~ CPUs^b, least squares on log-log): staged b = ${f2(staged.exponent)} (R^2 ${f2(staged.r2)}), staging off b = ${f2(unstaged.exponent)} (R^2 ${f2(unstaged.r2)}).`
      : '',
  ].join('\n');
}

function processLine(what: string, t: ProcessTiming): string {
  const s = (x: { median: number; p10: number; p90: number }): string =>
    `${f1(x.median)} (p10 ${f1(x.p10)}, p90 ${f1(x.p90)})`;
  return `${what}, ${t.runs} rounds against node -e 0: process ${s(t.wallMs)} ms (CPU ${s(t.processCpuMs)} ms), node -e 0 ${s(t.nodeMs)} ms; inside it: import ${s(t.importMs)} ms, simulate() ${s(t.firstMs)} ms (CPU ${s(t.firstCpuMs)} ms); peak RSS ${s(t.peakRssMB)} MB.`;
}

function details(r: Results): string {
  const out: string[] = [];
  const h = r.hotPath;
  if (h) {
    const c = h.counts;
    out.push(
      `Hot path: image ${h.image}, largest blob ${h.blobBytes.toLocaleString('en')} bytes; one package's doStage() = ${c.writes.toLocaleString('en')} MMIO writes (${c.wrdata.toLocaleString('en')} WRDATA) + ${c.reads.toLocaleString('en')} reads (the mmiotrace recorder saw ${h.recordedWrites.toLocaleString('en')} + ${h.recordedReads.toLocaleString('en')}).`,
      `  median ms: floor ${f2(h.floor.ms.median)}, plain loop ${f2(h.plain.ms.median)}, re-staging ${f2(h.modelWarm.ms.median)} (batch mean ${f2(h.modelWarm.batchMs?.median ?? Number.NaN)}), fresh machine ${f2(h.model.ms.median)} (p10 ${f2(h.model.ms.p10)}, p90 ${f2(h.model.ms.p90)}, batch mean ${f2(h.model.batchMs?.median ?? Number.NaN)}), nothing staged before ${f2(h.modelNew.ms.median)} (batch mean ${f2(h.modelNew.batchMs?.median ?? Number.NaN)}), trace on ${f2(h.modelTrace.ms.median)}`,
    );
  }
  if (r.lateLoad) out.push(`Late load: image ${r.lateLoad.image}.`);
  if (r.memory) {
    const m = r.memory.cold;
    out.push(
      `Memory, cold first run (JIT compiling as it goes): peak heap +${f1(m.peakHeapMB)} MB, buffers +${f1(m.peakExternalMB)} MB, ${f1(m.allocatedMB)} MB allocated, ${m.gcs} GCs; RSS ${f1(m.rssBeforeMB)} MB before, peak ${f1(m.peakRssMB)} MB.`,
    );
  }
  if (r.startup) out.push(processLine('Start-up', r.startup));
  if (r.scaling) out.push('', scalingTable(r.scaling), '');
  if (r.big) out.push(processLine('65,536 CPUs', r.big));
  if (r.parse)
    out.push(
      `Parse: ${r.parse.dir}${r.parse.synthetic ? ' (synthetic: no microcode folder found)' : ''}, ${r.parse.rejectedFiles} files rejected.`,
    );
  if (r.cli) {
    const c = r.cli;
    out.push(
      `CLI: simulate -q median ${f1(c.simulateMs.median)} ms (min ${f1(c.simulateMs.min)}), inspect median ${f1(c.inspectMs.median)} ms (min ${f1(c.inspectMs.min)}), node -e 0 ${f1(c.nodeMs.median)} ms, iucode_tool ${c.iucodeMs ? `${f1(c.iucodeMs.median)} ms (min ${f1(c.iucodeMs.min)}; ${c.iucodeVersion ?? ''})` : 'absent'}.`,
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

/** Everything `npm run bench` prints: the machine, the table, the details. */
export function formatResults(results: Results): string {
  const e = results.env;
  const load = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  return [
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
  ].join('\n');
}

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

const PROFILE_COLUMNS: readonly TableColumn[] = [
  { align: 'right', minWidth: '100.0%'.length },
  { align: 'right', minWidth: '123456.7 ms'.length },
  {},
];

/** Self time per function of a parsed `node --cpu-prof` profile, the top `top` lines. */
export function summarizeProfile(p: CpuProfile, top: number): string {
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
  const rows = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => [`${((100 * us) / total).toFixed(1)}%`, `${(us / 1000).toFixed(1)} ms`, k]);
  return formatTable(PROFILE_COLUMNS, rows).join('\n');
}
