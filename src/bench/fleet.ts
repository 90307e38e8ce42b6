/**
 * The fleet benchmark: `ucode-staging fleet` on a generated inventory of 100,000 hosts in 500
 * shapes (machines, kernels, HZ and revisions), as a process, timed from start to exit, with its
 * peak RSS (worker threads included) from /usr/bin/time when it is installed. The input is
 * written to a temporary folder and removed afterwards; to keep it:
 *
 *   node dist-bench/bench/fleet.js DIR        writes DIR/fleet.csv and DIR/machines/
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { now } from './host.js';

const CLI = fileURLToPath(new URL('../dist/cli/main.cjs', import.meta.url));
const TIME = '/usr/bin/time';

export const FLEET_BENCH_HOSTS = 100_000;
export const FLEET_BENCH_SHAPES = 500;

/** Machines of the generated fleet: presets and machine files (core counts of public parts). */
const MACHINES: readonly { name: string; file?: Record<string, unknown> }[] = [
  { name: 'gnr-2s' },
  { name: 'srf-2s' },
  { name: 'spr-2s' },
  { name: 'up' },
  { name: 'gnr-1s-64c', file: { extends: 'gnr-2s', name: 'gnr-1s-64c', packages: 1, coresPerPackage: 64 } },
  { name: 'gnr-2s-86c', file: { extends: 'gnr-2s', name: 'gnr-2s-86c', coresPerPackage: 86 } },
  { name: 'srf-1s', file: { extends: 'srf-2s', name: 'srf-1s', packages: 1 } },
  { name: 'spr-1s-32c', file: { extends: 'spr-2s', name: 'spr-1s-32c', packages: 1, coresPerPackage: 32 } },
  { name: 'gnr-4s', file: { extends: 'gnr-2s', name: 'gnr-4s', packages: 4, coresPerPackage: 86 } },
  { name: 'emr-2s', file: { extends: 'spr-2s', name: 'emr-2s', signature: 0xc06f2, coresPerPackage: 60 } },
];
const KERNELS = ['6.19.3', '6.12.48', '6.8.0-45-generic'] as const;
const HZ = [1000, 250] as const;

interface Shape {
  machine: string;
  kernel: string;
  hz: number;
  revisionStep: number;
}

function shapes(count: number): Shape[] {
  const out: Shape[] = [];
  for (let step = 0; out.length < count; step++)
    for (const m of MACHINES)
      for (const kernel of KERNELS)
        for (const hz of HZ)
          if (out.length < count) out.push({ machine: m.name, kernel, hz, revisionStep: step });
  return out;
}

/** Base revisions of the presets' CPUs, stepped down per shape (each a distinct revision). */
const BASE_REVISION: Record<string, number> = {
  gnr: 0x10003a2,
  srf: 0x3000341,
  spr: 0x2c000390,
  up: 0x10003a2,
  emr: 0x21000200,
};

function revisionOf(s: Shape): string {
  const family = s.machine.startsWith('up') ? 'up' : s.machine.slice(0, 3);
  return `0x${(BASE_REVISION[family]! - s.revisionStep).toString(16)}`;
}

/**
 * `hosts` rows (one host each) over `count` shapes, Zipf-like: a few shapes hold most hosts,
 * every shape at least one. Returns the CSV's path.
 */
export function writeFleetBenchInput(
  dir: string,
  hosts = FLEET_BENCH_HOSTS,
  count = FLEET_BENCH_SHAPES,
): string {
  mkdirSync(join(dir, 'machines'), { recursive: true });
  for (const m of MACHINES)
    if (m.file)
      writeFileSync(join(dir, 'machines', `${m.name}.json`), `${JSON.stringify(m.file, null, 2)}\n`);
  const list = shapes(count);
  const weights = list.map((_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const per = weights.map((w) => 1 + Math.floor((w / total) * (hosts - list.length)));
  per[0]! += hosts - per.reduce((a, b) => a + b, 0);
  const lines = ['host,machine,kernel,hz,revision'];
  let n = 0;
  for (const [i, s] of list.entries()) {
    const machine = MACHINES.find((m) => m.name === s.machine)!.file
      ? `machines/${s.machine}.json`
      : s.machine;
    const rev = revisionOf(s);
    for (let k = 0; k < per[i]!; k++)
      lines.push(`host-${String(++n).padStart(6, '0')},${machine},${s.kernel},${s.hz},${rev}`);
  }
  // Shuffled the same way every time: a real inventory is not sorted by shape.
  let seed = 12345;
  for (let i = lines.length - 1; i > 1; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = 1 + (seed % i);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  const csv = join(dir, 'fleet.csv');
  writeFileSync(csv, `${lines.join('\n')}\n`);
  return csv;
}

export interface FleetRun {
  jobs: string;
  wallSeconds: number;
  /** Peak resident set of the process (worker threads included), from /usr/bin/time; null without it. */
  peakRssMB: number | null;
}

export interface FleetBenchResult {
  hosts: number;
  shapes: number;
  simulated: number;
  csvBytes: number;
  runs: FleetRun[];
  /** The same 500 shapes with a tenth of the hosts: memory should not follow the hosts. */
  small: { hosts: number; run: FleetRun };
}

function runFleet(csv: string, json: string, jobs: string | undefined): FleetRun {
  const args = [CLI, 'fleet', csv, '--json', json, ...(jobs ? ['--jobs', jobs] : [])];
  const timed = existsSync(TIME);
  const t0 = now();
  const r = timed
    ? spawnSync(TIME, ['-f', 'fleet-bench-rss-kb %M', process.execPath, ...args], { encoding: 'utf8' })
    : spawnSync(process.execPath, args, { encoding: 'utf8' });
  const wallSeconds = (now() - t0) / 1000;
  if (r.status !== 0 && r.status !== 1) throw new Error(`fleet exited ${r.status}: ${r.stderr}`);
  const rss = /fleet-bench-rss-kb (\d+)/.exec(r.stderr ?? '');
  return { jobs: jobs ?? 'auto', wallSeconds, peakRssMB: rss ? Number(rss[1]) / 1024 : null };
}

export function caseFleet(quick: boolean): FleetBenchResult {
  const dir = mkdtempSync(join(tmpdir(), 'ucode-bench-fleet-'));
  try {
    const csv = writeFleetBenchInput(dir);
    const json = join(dir, 'fleet.json');
    const runs = [runFleet(csv, json, undefined)];
    const report = JSON.parse(readFileSync(json, 'utf8')) as {
      inputs: { hosts: number; shapes: number; simulated: number };
    };
    if (!quick) runs.push(runFleet(csv, json, undefined), runFleet(csv, json, '2'));
    const smallDir = join(dir, 'small');
    const small = runFleet(
      writeFleetBenchInput(smallDir, FLEET_BENCH_HOSTS / 10),
      join(smallDir, 'fleet.json'),
      undefined,
    );
    return {
      hosts: report.inputs.hosts,
      shapes: report.inputs.shapes,
      simulated: report.inputs.simulated,
      csvBytes: readFileSync(csv).length,
      runs,
      small: { hosts: FLEET_BENCH_HOSTS / 10, run: small },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The benchmark's lines for the report. */
export function formatFleetBench(r: FleetBenchResult): string {
  const auto = r.runs.filter((x) => x.jobs === 'auto');
  const best = Math.min(...auto.map((x) => x.wallSeconds));
  const rss = auto.map((x) => x.peakRssMB).filter((x): x is number => x !== null);
  const lines = [
    '',
    `Fleet: \`fleet\` on ${r.hosts.toLocaleString('en')} inventory hosts in ${r.shapes} shapes (${r.simulated} simulated, ${(r.csvBytes / 1e6).toFixed(1)} MB of CSV), as a process:`,
    ...r.runs.map(
      (x) =>
        `  --jobs ${x.jobs}: ${x.wallSeconds.toFixed(2)} s${x.peakRssMB === null ? '' : `, peak RSS ${x.peakRssMB.toFixed(0)} MB`}`,
    ),
    `  ${r.small.hosts.toLocaleString('en')} hosts, the same ${r.shapes} shapes: ${r.small.run.wallSeconds.toFixed(2)} s${r.small.run.peakRssMB === null ? '' : `, peak RSS ${r.small.run.peakRssMB.toFixed(0)} MB`}`,
    `  target < 10 s: ${best < 10 ? 'PASS' : 'FAIL'} (${best.toFixed(2)} s${rss.length ? `, ${Math.max(...rss).toFixed(0)} MB` : ''})`,
  ];
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node dist-bench/bench/fleet.js DIR\n');
    process.exit(2);
  }
  process.stdout.write(`wrote ${writeFleetBenchInput(dir)}\n`);
}
