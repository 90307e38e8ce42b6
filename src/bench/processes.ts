/**
 * Whole processes: each benchmark case in a fresh Node process (so one case's
 * JIT state and heap do not leak into the next), and the processes a user
 * starts (the library's first simulate(), 65,536 CPUs, the CLI's inspect),
 * timed from spawn to exit in alternation with `node -e 0` (and iucode_tool
 * when installed), so a busy machine slows every command of a round alike.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseName } from './cases.js';
import { MB, now } from './host.js';
import type { ProcessRunReport } from './process-run.js';
import { type Summary, summarize } from './stats.js';

/** The entry a case runs through (`run.js --case NAME`). */
const RUN_ENTRY = fileURLToPath(new URL('./run.js', import.meta.url));
/** The CLI as shipped, built by `npm run bench` from the same source (dist-bench/dist/cli/main.cjs). */
const CLI = fileURLToPath(new URL('../dist/cli/main.cjs', import.meta.url));
/** One library process (process-run.ts). */
const PROCESS_RUN = fileURLToPath(new URL('./process-run.js', import.meta.url));

/** A function V8 deoptimized again and again in one benchmark's process. */
export interface DeoptLoop {
  bench: string;
  fn: string;
  deopts: number;
}

export interface CliTiming {
  runs: number;
  /** `simulate -q`: the default run, its summary only. */
  simulateMs: Summary;
  inspectMs: Summary;
  /** `node -e 0`, in the same rounds. */
  nodeMs: Summary;
  iucodeMs: Summary | undefined;
  iucodeVersion: string | undefined;
}

/** A library process (process-run.ts) against `node -e 0`, round by round. */
export interface ProcessTiming {
  mode: string;
  runs: number;
  /** Spawn to exit. */
  wallMs: Summary;
  nodeMs: Summary;
  /** The process's own figures, each summarised over the runs. */
  importMs: Summary;
  firstMs: Summary;
  firstCpuMs: Summary;
  processCpuMs: Summary;
  peakRssMB: Summary;
  cpus: number;
}

interface Command {
  argv: string[];
  /** Exit codes that are not a failure. */
  ok?: readonly number[];
  /** Added to the environment. */
  env?: Record<string, string>;
}

/**
 * `runs` rounds; each round runs every command once, the order rotating from
 * round to round. Wall times (spawn to exit) per command, and each command's
 * stdout per round.
 */
export function pairedRuns(commands: readonly Command[], runs: number): { ms: number[]; stdout: string[] }[] {
  const out = commands.map(() => ({ ms: [] as number[], stdout: [] as string[] }));
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < commands.length; k++) {
      const i = (round + k) % commands.length;
      const c = commands[i]!;
      const t0 = now();
      const r = spawnSync(c.argv[0]!, c.argv.slice(1), {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 256 * MB,
        ...(c.env ? { env: { ...process.env, ...c.env } } : {}),
      });
      const ms = now() - t0;
      if (!(c.ok ?? [0]).includes(r.status ?? -1))
        throw new Error(`${c.argv.join(' ')} failed (exit ${r.status ?? r.signal})`);
      out[i]!.ms.push(ms);
      out[i]!.stdout.push(r.stdout);
    }
  }
  return out;
}

/** `process-run.js MODE` against `node -e 0`: `runs` rounds after one untimed round. */
export function timeProcess(mode: string, runs: number): ProcessTiming {
  const node = { argv: [process.execPath, '-e', '0'] };
  const lib = { argv: [process.execPath, PROCESS_RUN, mode] };
  pairedRuns([node, lib], 1);
  const [n, l] = pairedRuns([node, lib], runs);
  const reports = l!.stdout.map((s) => JSON.parse(s.trim().split('\n').at(-1)!) as ProcessRunReport);
  for (const r of reports)
    if (r.outcome !== 'updated') throw new Error(`${mode}: late load ended '${r.outcome}'`);
  return {
    mode,
    runs,
    wallMs: summarize(l!.ms),
    nodeMs: summarize(n!.ms),
    importMs: summarize(reports.map((r) => r.importMs)),
    firstMs: summarize(reports.map((r) => r.firstMs)),
    firstCpuMs: summarize(reports.map((r) => r.firstCpuMs)),
    processCpuMs: summarize(reports.map((r) => r.processCpuMs)),
    peakRssMB: summarize(reports.map((r) => r.peakRssMB)),
    cpus: reports[0]!.cpus,
  };
}

/** Functions V8 deoptimized at least this often in one benchmark: a deopt loop, not warm-up. */
export const DEOPT_LOOP = 20;

/** Runs `--case name` in a fresh process (with --trace-deopt, to spot deopt loops); its last stdout line is the JSON result. */
export function runChild<T>(
  name: CaseName,
  env: Record<string, string>,
  quick: boolean,
  deopts: DeoptLoop[],
): T {
  const args = ['--expose-gc', '--trace-deopt', RUN_ENTRY, '--case', name];
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

/**
 * `simulate -q` and `inspect <dir>` as processes against `node -e 0` and `iucode_tool -l <dir>`
 * (when installed), in alternating rounds. simulate finds no firmware folder (UCODE_STAGING_FIRMWARE_DIR
 * points nowhere), so it runs on the default synthetic image, as on a machine without intel-ucode.
 */
export function timeCli(dir: string, quick: boolean): CliTiming {
  const iucode = which('iucode_tool');
  const runs = quick ? 5 : 20;
  let iucodeVersion: string | undefined;
  if (iucode) {
    const v = spawnSync(iucode, ['--version'], { encoding: 'utf8' });
    iucodeVersion = `${v.stdout}${v.stderr}`.trim().split('\n')[0];
  }
  // inspect exits 1 when a file in the folder is rejected: still a full run.
  const commands: Command[] = [
    { argv: [process.execPath, CLI, 'simulate', '-q'], env: { UCODE_STAGING_FIRMWARE_DIR: '/nonexistent' } },
    { argv: [process.execPath, CLI, 'inspect', dir], ok: [0, 1] },
    { argv: [process.execPath, '-e', '0'] },
    ...(iucode ? [{ argv: [iucode, '-l', dir] }] : []),
  ];
  pairedRuns(commands, 2);
  const [simulate, inspect, node, tool] = pairedRuns(commands, runs);
  return {
    runs,
    simulateMs: summarize(simulate!.ms),
    inspectMs: summarize(inspect!.ms),
    nodeMs: summarize(node!.ms),
    iucodeMs: tool ? summarize(tool.ms) : undefined,
    iucodeVersion,
  };
}

export interface CampaignJobsTiming {
  runs: number;
  rounds: number;
  /** `campaign --jobs 1` and `--jobs 2`, whole processes, ms. */
  oneMs: Summary;
  twoMs: Summary;
  /**
   * Two `--jobs 1` processes side by side, each running one half (`--shard K/2`), from
   * the start of both to the end of the later: no thread, heap or compiled code shared,
   * so what two cores give this workload at best.
   */
  shardsMs: Summary;
}

/**
 * The campaign command with one worker thread and with two, as processes in alternating
 * rounds (the same report either way; only the wall time may differ).
 */
export function timeCampaignJobs(quick: boolean): CampaignJobsTiming {
  const runs = quick ? 4000 : 20000;
  const rounds = quick ? 1 : 3;
  const job = (n: number): Command => ({
    argv: [process.execPath, CLI, 'campaign', '--runs', String(runs), '--seed', '1', '--jobs', String(n)],
    ok: [0, 1],
  });
  const shard = (k: number) =>
    `"$0" "$1" campaign --runs ${runs} --seed 1 --jobs 1 --shard ${k}/2 --json /dev/null >/dev/null`;
  const shards: Command = {
    // Exit status 1 is a campaign that found failing runs, as for the other two.
    argv: [
      '/bin/sh',
      '-c',
      `${shard(0)} & a=$!; ${shard(1)} & b=$!; wait $a; x=$?; wait $b; y=$?; [ $x -le 1 ] && [ $y -le 1 ]`,
      process.execPath,
      CLI,
    ],
  };
  const [one, two, both] = pairedRuns([job(1), job(2), shards], rounds);
  return {
    runs,
    rounds,
    oneMs: summarize(one!.ms),
    twoMs: summarize(two!.ms),
    shardsMs: summarize(both!.ms),
  };
}
