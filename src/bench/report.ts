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
import { type CliTiming, DEOPT_LOOP, type DeoptLoop } from './processes.js';
import { fitPowerLaw } from './stats.js';

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
  scaling?: ScalingResult;
  parse?: ParseResult;
  cli?: CliTiming;
  campaign?: CampaignResult;
  /** Functions deoptimized again and again in a benchmark's process (V8 --trace-deopt). */
  deoptLoops: DeoptLoop[];
  wallSeconds: number;
}

const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
const mrate = (x: number): string => `${f1(x / 1e6)} M/s`;
const pass = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

const RESULT_COLUMNS: readonly TableColumn[] = [
  { header: '#' },
  { header: 'measurement' },
  { header: 'result' },
  { header: 'vs baseline' },
  { header: 'target' },
  { header: 'pass' },
];

/** A hot-path run of the model: its rate, and how it compares with the two loops. */
function modelCells(h: HotPathResult, run: Rate): [string, string] {
  return [
    `${mrate(run.perSecond)} writes (${f2(run.ms.median)} ms / package; p10 ${mrate(h.counts.writes / (run.ms.p10 / 1000))})`,
    `${f2(run.perSecond / h.floor.perSecond)} x floor, ${f2(run.perSecond / h.plain.perSecond)} x plain loop`,
  ];
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
      'mailbox hot path, trace off (driver -> Machine -> bus -> device), steady state',
      ...modelCells(h, h.modelWarm),
      '>= 150 M/s',
      pass(h.modelWarm.perSecond >= 150e6),
    ]);
    rows.push([
      '1',
      'same, first staging on a fresh machine (new 1.6 MB device buffer)',
      ...modelCells(h, h.model),
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
  const pts = s.points;
  const staged = fitPowerLaw(
    pts.map((p) => p.cpus),
    pts.map((p) => p.staged.median),
  );
  const unstaged = fitPowerLaw(
    pts.map((p) => p.cpus),
    pts.map((p) => p.unstaged.median),
  );
  const rows = pts.map((p) => [
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
