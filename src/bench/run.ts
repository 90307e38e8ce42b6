/**
 * `npm run bench`: the benchmark suite (BENCHMARKS.md says what each one measures).
 *
 *   node --expose-gc dist-bench/bench/run.js [--only a,b] [--quick] [--json FILE]
 *   node --expose-gc dist-bench/bench/run.js --case NAME         one benchmark, JSON on stdout
 *   node dist-bench/bench/run.js --summarize-profile F.cpuprofile [--top N]   self time per function
 *
 * Benchmarks (--only): hot-path, late-load, memory, startup, scaling, cpus-65536, parse, cli, campaign, fleet.
 *
 * The Node entry: it finds the microcode files, runs each benchmark in a fresh
 * child process (`--case NAME`, so one benchmark's JIT state and heap do not
 * leak into the next) and prints the results table. The cases are in cases.ts,
 * the processes in processes.ts, the text in report.ts; the measured code
 * (hot-path, late-load, parse, campaign) uses no Node API.
 *
 * Built by tsconfig.bench.json into dist-bench/, never into the package's dist/.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CASES,
  type CampaignResult,
  type CaseName,
  type HotPathResult,
  type LateLoadResult,
  type MemoryResult,
  type ParseResult,
  type ScalingResult,
} from './cases.js';
import { type FleetBenchResult, formatFleetBench } from './fleet.js';
import { cpuModel, findFirmware, now } from './host.js';
import { REAL_IMAGE_NAME, syntheticGnrFile } from './images.js';
import { runChild, timeCampaignJobs, timeCli, timeProcess } from './processes.js';
import { type CpuProfile, formatResults, type Results, summarizeProfile } from './report.js';

async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const profAt = argv.indexOf('--summarize-profile');
  if (profAt >= 0) {
    const topAt = argv.indexOf('--top');
    const profile = JSON.parse(readFileSync(argv[profAt + 1]!, 'utf8')) as CpuProfile;
    process.stdout.write(`${summarizeProfile(profile, topAt >= 0 ? Number(argv[topAt + 1]) : 25)}\n`);
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
  let fleet: FleetBenchResult | undefined;
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
    if (want('startup')) {
      process.stderr.write('bench: startup ...\n');
      results.startup = timeProcess('startup', quick ? 5 : 15);
    }
    if (want('scaling')) results.scaling = runChild<ScalingResult>('scaling', env, quick, results.deoptLoops);
    if (want('cpus-65536')) {
      process.stderr.write('bench: cpus-65536 ...\n');
      results.big = timeProcess('cpus-65536', quick ? 3 : 9);
    }
    if (want('parse')) results.parse = runChild<ParseResult>('parse', env, quick, results.deoptLoops);
    if (want('cli')) {
      process.stderr.write('bench: cli ...\n');
      results.cli = timeCli(parseDir, quick);
    }
    if (want('campaign')) {
      results.campaign = runChild<CampaignResult>('campaign', env, quick, results.deoptLoops);
      process.stderr.write('bench: campaign --jobs 1 and 2 ...\n');
      results.campaignJobs = timeCampaignJobs(quick);
    }
    if (want('fleet')) fleet = runChild<FleetBenchResult>('fleet', env, quick, results.deoptLoops);
  } finally {
    if (syntheticDir) rmSync(syntheticDir, { recursive: true, force: true });
  }
  results.env.loadAfter = loadavg();
  results.wallSeconds = (now() - started) / 1000;

  process.stdout.write(formatResults(results));
  if (fleet) process.stdout.write(formatFleetBench(fleet));
  if (jsonAt >= 0) writeFileSync(argv[jsonAt + 1]!, `${JSON.stringify({ ...results, fleet }, null, 2)}\n`);
}

await main(process.argv.slice(2));
