/**
 * One whole process, as a user starts it: Node starts, loads the library
 * (`dist-bench/dist/index.js`, the package's entry as `npm run build` makes it) and runs
 * simulate() once. The parent
 * (processes.ts) times the process from spawn to exit, alternating with
 * `node -e 0`; this process reports its own figures on stdout as JSON.
 *
 *   node dist-bench/bench/process-run.js startup     simulate() with every default (gnr-2s, synthetic image)
 *   node dist-bench/bench/process-run.js cpus-65536  simulate() of 64 packages x 512 cores x 2 threads, trace off
 *
 * It imports nothing else before the library, so the first call finds a cold
 * JIT and unparsed schemas, as in the CLI.
 */
import { performance } from 'node:perf_hooks';

/** 65,536 CPUs: the gnr-2s CPU in the largest shape a machine file may have (64 packages). */
export const BIG_SHAPE = { packages: 64, coresPerPackage: 512, threadsPerCore: 2 } as const;

export interface ProcessRunReport {
  mode: string;
  /** Loading the library module graph, ms. */
  importMs: number;
  /** The simulate() call, ms (the first in the process). */
  firstMs: number;
  /** CPU time of the process (every thread: V8 compiles on helper threads) during that call, ms. */
  firstCpuMs: number;
  /** CPU time of the whole process, ms: less sensitive than wall time to other load on the machine. */
  processCpuMs: number;
  outcome: string;
  cpus: number;
  /** Peak resident set of the process, MB. */
  peakRssMB: number;
}

async function main(mode: string): Promise<void> {
  const t0 = performance.now();
  // The library as shipped: the one-module bundle `npm run bench` builds into dist-bench/dist.
  const lib: typeof import('../index.js') = await import(new URL('../dist/index.js', import.meta.url).href);
  const t1 = performance.now();
  let run: () => { outcome: string; machine: { cpus: number } };
  if (mode === 'startup') run = () => lib.simulate();
  else if (mode === 'cpus-65536') {
    const machine = { extends: 'gnr-2s', name: 'bench-65536', ...BIG_SHAPE };
    run = () => lib.simulate({ machine, trace: false });
  } else throw new Error(`unknown mode '${mode}'`);
  const c1 = process.cpuUsage();
  const result = run();
  const t2 = performance.now();
  const c2 = process.cpuUsage();
  const report: ProcessRunReport = {
    mode,
    importMs: t1 - t0,
    firstMs: t2 - t1,
    firstCpuMs: (c2.user - c1.user + c2.system - c1.system) / 1000,
    processCpuMs: (c2.user + c2.system) / 1000,
    outcome: result.outcome,
    cpus: result.machine.cpus,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

await main(process.argv[2] ?? 'startup');
