/**
 * Whole processes: each benchmark case in a fresh Node process (so one case's
 * JIT state and heap do not leak into the next), and the CLI timed as a
 * command against iucode_tool.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseName } from './cases.js';
import { MB, now } from './host.js';
import { type Summary, summarize } from './stats.js';

/** The entry a case runs through (`run.js --case NAME`). */
const RUN_ENTRY = fileURLToPath(new URL('./run.js', import.meta.url));
/** The CLI compiled with the benchmarks (dist-bench/cli/main.js): the same source as they measure. */
const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** A function V8 deoptimized again and again in one benchmark's process. */
export interface DeoptLoop {
  bench: string;
  fn: string;
  deopts: number;
}

export interface CliTiming {
  tool: 'hyperfine' | 'spawnSync';
  runs: number;
  inspectMs: Summary;
  iucodeMs: Summary | undefined;
  iucodeVersion: string | undefined;
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

function shellQuote(s: string): string {
  return /^[\w./@:=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `inspect <dir>` as a process, and `iucode_tool -l <dir>` when installed: hyperfine if present, else spawnSync. */
export function timeCli(dir: string, quick: boolean): CliTiming {
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
