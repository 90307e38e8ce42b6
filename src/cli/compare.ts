import { renderReport } from '../output/html-report.js';
import type { SimulationResult } from '../sim/result-types.js';
import type { SimulateOptions } from '../sim/simulate.js';
import { writeFileAtomic } from './atomic-write.js';
import { type Command, UsageError } from './io.js';
import { Progress } from './progress.js';
import { resolveSimOptions, SIM_OPTIONS, SIM_OPTIONS_HELP, type SimValues } from './sim-options.js';
import { parseArgsOrUsage, resultJson, runSimulation } from './simulate.js';

const HELP = `usage: ucode-staging compare [options] [--sweep KEY=V1,V2,...]...

Run the same machine and image with staging off and on and compare the stop
window (first CPU stopped to last released), the staging time and the whole
reload. With --sweep, do that for every combination of the values given.

sweep keys:
  image-size   synthetic image sizes, e.g. 256K,1M,1.6M,4M
  machine      presets or machine files
  hz           100, 250, 300, 1000
  kernel       6.12+, pre-6.12
  profile      device profiles as for --profile (separate with ';' when they contain commas)
  poll         msleep, fine

${SIM_OPTIONS_HELP}
output:
      --json FILE      the table as JSON (schema ucode-staging/compare@1; '-' for stdout)
      --report FILE    HTML report with both timelines and side-by-side charts
  -h, --help
`;

const SWEEP_KEYS = ['image-size', 'machine', 'hz', 'kernel', 'profile', 'poll'] as const;
type SweepKey = (typeof SWEEP_KEYS)[number];

export interface ComparePoint {
  label: string;
  params: Record<string, string>;
  off: RunFigures;
  on: RunFigures;
  /** How much shorter the stop window is with staging, in percent of the unstaged one. */
  stopWindowReductionPct: number | null;
}

export interface RunFigures {
  outcome: string;
  returnCode: number;
  stopWindowNs: number | null;
  stagingNs: number;
  reloadNs: number;
  stagingOk: boolean;
  bytesStaged: number;
  resends: number;
}

export const compareCommand: Command = async (argv, io) => {
  const { values } = parseArgsOrUsage(argv, {
    ...SIM_OPTIONS,
    sweep: { type: 'string', multiple: true },
    json: { type: 'string' },
    report: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const base = values as SimValues & { sweep?: string[] };
  const points = sweepPoints(base.sweep ?? []);
  const progress = new Progress(io, points.length * 2, 'compare');
  const rows: ComparePoint[] = [];
  const reportResults: SimulationResult[] = [];
  const reportLabels: string[] = [];
  let imageNote = '';
  for (const params of points) {
    const v: SimValues = { ...base };
    for (const [k, val] of Object.entries(params)) applySweepValue(v, k as SweepKey, val);
    const resolved = resolveSimOptions(v, io.env);
    imageNote ||= resolved.imageNote;
    const onPolicy =
      resolved.options.policy?.staging === 'off' ? 'auto' : (resolved.options.policy?.staging ?? 'auto');
    const run = (staging: 'off' | 'auto' | 'require'): SimulationResult => {
      const opts: SimulateOptions = { ...resolved.options, policy: { ...resolved.options.policy, staging } };
      const r = runSimulation(opts);
      progress.tick(label(params));
      return r;
    };
    const off = run('off');
    const on = run(onPolicy);
    const offF = figures(off);
    const onF = figures(on);
    rows.push({
      label: label(params),
      params,
      off: offF,
      on: onF,
      stopWindowReductionPct:
        offF.stopWindowNs && onF.stopWindowNs !== null
          ? round1((1 - onF.stopWindowNs / offF.stopWindowNs) * 100)
          : null,
    });
    if (points.length === 1 || reportResults.length < 8) {
      reportResults.push(off, on);
      reportLabels.push(
        `${label(params) || ''} staging off`.trim(),
        `${label(params) || ''} staging ${onPolicy}`.trim(),
      );
    }
  }
  progress.finish();

  if (values.json === '-') io.stdout(`${resultJson({ schema: 'ucode-staging/compare@1', points: rows })}\n`);
  else {
    const first = reportResults[1]!;
    io.stdout(
      `ucode-staging compare: machine ${first.machine.name} (${first.machine.cpus} CPUs), image: ${imageNote}\n\n`,
    );
    io.stdout(formatCompareTable(rows));
  }
  if (values.json !== undefined && values.json !== '-') {
    writeFileAtomic(values.json, `${resultJson({ schema: 'ucode-staging/compare@1', points: rows })}\n`);
    io.stderr(`wrote ${values.json}\n`);
  }
  if (values.report !== undefined) {
    writeFileAtomic(
      values.report,
      renderReport({ results: reportResults, labels: reportLabels, title: 'ucode-staging compare' }),
    );
    io.stderr(`wrote ${values.report}\n`);
  }
  return rows.every((r) => r.off.outcome === 'updated' && r.on.outcome === 'updated') ? 0 : 1;
};

function sweepPoints(sweeps: string[]): Record<string, string>[] {
  let points: Record<string, string>[] = [{}];
  for (const s of sweeps) {
    const m = /^([a-z-]+)=(.+)$/.exec(s);
    if (!m || !(SWEEP_KEYS as readonly string[]).includes(m[1]!)) {
      throw new UsageError(
        `bad --sweep '${s}': expected KEY=V1,V2,... with KEY one of ${SWEEP_KEYS.join(', ')}`,
      );
    }
    const key = m[1]!;
    const sep = m[2]!.includes(';') ? ';' : key === 'profile' ? ';' : ',';
    const values = m[2]!.split(sep).filter(Boolean);
    points = points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
  }
  if (points.length > 10_000) throw new UsageError(`the sweep has ${points.length} points; at most 10000`);
  return points;
}

function applySweepValue(v: SimValues, key: SweepKey, value: string): void {
  switch (key) {
    case 'image-size':
      // Sizes are synthetic images: the sweep replaces any firmware given.
      v['image-size'] = value;
      v.firmware = undefined;
      break;
    case 'machine':
      v.machine = value;
      break;
    case 'hz':
      v.hz = value;
      break;
    case 'kernel':
      v.kernel = value;
      break;
    case 'profile':
      v.profile = [value];
      break;
    case 'poll':
      v.poll = value;
      break;
  }
}

function figures(r: SimulationResult): RunFigures {
  return {
    outcome: r.outcome,
    returnCode: r.returnCode,
    stopWindowNs: r.stopWindow?.durationNs ?? null,
    stagingNs: r.staging.durationNs,
    reloadNs: r.reload.durationNs,
    stagingOk: r.staging.ok,
    bytesStaged: r.staging.bytesSent,
    resends: r.staging.resends,
  };
}

function label(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

const ms = (ns: number | null): string => (ns === null || !Number.isFinite(ns) ? '-' : (ns / 1e6).toFixed(3));

export function formatCompareTable(rows: ComparePoint[]): string {
  const header = [
    'point',
    'stop off ms',
    'stop on ms',
    'reduction',
    'staging ms',
    'reload off ms',
    'reload on ms',
    'outcome on',
  ];
  const body = rows.map((r) => [
    r.label || 'default',
    ms(r.off.stopWindowNs),
    ms(r.on.stopWindowNs),
    r.stopWindowReductionPct === null ? '-' : `${r.stopWindowReductionPct.toFixed(1)}%`,
    ms(r.on.stagingNs),
    ms(r.off.reloadNs),
    ms(r.on.reloadNs),
    r.on.stagingOk || r.on.outcome !== 'updated' ? r.on.outcome : `${r.on.outcome} (unstaged)`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')}\n`;
}
