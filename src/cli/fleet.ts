import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import {
  type CostModelOverrides,
  FleetPlanner,
  type FleetProblem,
  type FleetReport,
  fleet,
  fleetJson,
  formatFleetSummary,
  parseCost,
  renderFleetReport,
  resolveMachine,
  SimulationInputError,
} from '../index.js';
import { paint } from './color.js';
import { FLEET } from './commands.js';
import { findInputs, InventoryReader, readHostInput, yieldToEventLoop } from './fleet-input.js';
import { JobPool } from './fleet-pool.js';
import { type Command, describeErrno, printable, UsageError } from './io.js';
import { planOutputs } from './output-plan.js';
import { Progress } from './progress.js';
import { helpText, parseCommand } from './spec.js';

interface FleetValues {
  'pause-budget'?: string;
  wave?: string;
  'wave-gap'?: string;
  'include-unsafe'?: boolean;
  firmware?: string;
  cost?: string[];
  strict?: boolean;
  jobs?: string;
  json?: string;
  csv?: string;
  report?: string;
  help?: boolean;
}

/** Problems printed on stderr as they are found; the rest are counted (all are in --json). */
const SHOWN_PROBLEMS = 20;

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  min: 60e9,
  h: 3600e9,
};

/** "10s", "250ms", "1.5m", "0": a duration in ns (a bare number is seconds). */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|min|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} expects a duration such as 10s or 250ms, got '${printable(text)}'`);
  const ns = Number(m[1]) * UNITS[m[2] ?? 's']!;
  if (!Number.isFinite(ns) || ns > 1e18) throw new UsageError(`${flag}: ${printable(text)} is too long`);
  return Math.round(ns);
}

/** "200" hosts or "5%" of the planned hosts. */
export function parseWave(text: string): { hosts: number } | { share: number } {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  if (pct) {
    const share = Number(pct[1]) / 100;
    if (!(share > 0 && share <= 1))
      throw new UsageError(`--wave: a share must be above 0% and at most 100%, got ${text}`);
    return { share };
  }
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > 1e9)
    throw new UsageError(
      `--wave expects a number of hosts (1 or more) or a share such as 10%, got '${printable(text)}'`,
    );
  return { hosts: Number(text) };
}

function costOf(texts: readonly string[]): CostModelOverrides | null {
  if (texts.length === 0) return null;
  try {
    const cost: CostModelOverrides = {};
    for (const kv of texts) Object.assign(cost, parseCost(kv));
    resolveMachine('up', { cost }); // the values are checked here, once, not on every row
    return cost;
  } catch (err) {
    if (err instanceof SimulationInputError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * Worker threads only where they pay: on the 2-vCPU benchmark VM, two workers were slower than
 * one thread (each compiles the simulator again, and two simulations at once ran slower there;
 * BENCHMARKS.md, "Fleet"), so below 4 CPUs the model runs in this thread.
 */
export function defaultJobs(cpus = availableParallelism()): number {
  return cpus >= 4 ? cpus : 1;
}

function jobsOf(text: string | undefined): number {
  if (text === undefined) return defaultJobs();
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 256)
    throw new UsageError(`--jobs expects a number of threads from 1 to 256, got '${printable(text)}'`);
  return Number(text);
}

/** A folder that exists and can be listed, or a one-line usage error. */
function checkFolder(flag: string, dir: string): void {
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`${flag} '${printable(dir)}' is not a folder`);
    readdirSync(dir);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${flag} '${printable(dir)}': ${describeErrno(err)}`);
  }
}

function whereText(p: FleetProblem): string {
  return `${p.file}${p.line === null ? '' : `:${p.line}`}`;
}

export const fleetCommand: Command = async (argv, io) => {
  const { values: raw, positionals } = parseCommand(FLEET, argv);
  const values = raw as FleetValues;
  if (values.help) {
    io.stdout(helpText(FLEET));
    return 0;
  }
  const pauseBudgetNs = parseDuration('--pause-budget', values['pause-budget'] ?? '10s');
  if (pauseBudgetNs <= 0) throw new UsageError('--pause-budget must be above 0');
  const wave = parseWave(values.wave ?? '10%');
  const waveGapNs = parseDuration('--wave-gap', values['wave-gap'] ?? '0s');
  const cost = costOf(values.cost ?? []);
  const threads = jobsOf(values.jobs);
  if (values.firmware === '') throw new UsageError('--firmware expects a value, got an empty one');
  if (values.firmware !== undefined) checkFolder('--firmware', values.firmware);

  const inputs = findInputs(positionals);
  const plan = planOutputs(
    [
      { flag: '--json', path: values.json },
      { flag: '--csv', path: values.csv },
      { flag: '--report', path: values.report },
    ],
    [...positionals, ...(values.firmware !== undefined ? [values.firmware] : [])],
    io,
  );

  let shown = 0;
  let simulating: Progress | undefined;
  const pool = new JobPool(threads, (reply) => {
    if (reply.type === 'done') planner.resolve(reply.key, reply.summary);
    else planner.fail(reply.key, fleet.jobFailure(reply.name, reply.message));
    simulating?.tick();
  });
  const planner = new FleetPlanner({
    pauseBudgetNs,
    wave,
    waveGapNs,
    includeUnsafe: values['include-unsafe'] === true,
    cost,
    keepHosts: plan.has('--csv'),
    onProblem: (p) => {
      if (values.strict) throw new UsageError(`${whereText(p)}: ${p.message} (--strict)`);
      if (shown++ < SHOWN_PROBLEMS)
        io.stderr(`ucode-staging fleet: skipped ${printable(`${whereText(p)}: ${p.message}`)}\n`);
    },
    // Each new shape starts on a worker thread at once, while the rest is read.
    onJob: (key, job) => pool.push(key, job),
  });

  const reading = new Progress(io, inputs.length, 'fleet: reading');
  const inventories = new InventoryReader(planner, values.firmware);
  try {
    for (const [i, input] of inputs.entries()) {
      if (input.kind === 'inventory') await inventories.read(input.path, input.format);
      else readHostInput(input, planner, values.firmware);
      reading.tick();
      if (i % 64 === 63) await yieldToEventLoop();
    }
  } catch (err) {
    await pool.abort(); // a --strict stop: the workers end at once
    throw err;
  }
  reading.finish();
  simulating = new Progress(io, planner.pendingJobs().length, 'fleet: simulating shapes');
  await pool.drain(() => simulating?.tick());
  simulating.finish();

  const report = planner.report();
  if (shown > SHOWN_PROBLEMS)
    io.stderr(
      `ucode-staging fleet: ${shown - SHOWN_PROBLEMS} more input${shown - SHOWN_PROBLEMS === 1 ? '' : 's'} skipped (listed in --json and --report)\n`,
    );
  if (report.inputs.hosts === 0)
    throw new UsageError(
      `nothing to plan: no host in ${inputs.length} input${inputs.length === 1 ? '' : 's'}${report.inputs.problems ? ` (${report.inputs.problems} skipped)` : ''}`,
    );

  if (!plan.usesStdout) io.stdout(paint(formatFleetSummary(report), io.color));
  await plan.write('--json', () => `${fleetJson(report)}\n`);
  if (plan.has('--csv')) await plan.write('--csv', planner.csv());
  if (plan.has('--report')) await plan.write('--report', renderFleetReport({ report }));
  for (const o of plan.outputs) if (o.kind !== 'stdout') io.stderr(`wrote ${printable(o.path)}\n`);
  return exitStatus(report);
};

/** 0: every host would load safely, none at risk, nothing skipped; else 1. */
export function exitStatus(report: FleetReport): 0 | 1 {
  const allSafe = report.verdicts.safe === report.inputs.hosts;
  const atRisk = report.shapes.some((s) => s.risks.length > 0);
  return allSafe && !atRisk && report.inputs.problems === 0 ? 0 : 1;
}
