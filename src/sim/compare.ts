import type { DeviceProfile } from '../platform/mailbox/config.js';
import type { MachineInput } from './machine-input.js';
import type { SimulationResult } from './result-types.js';
import type { Hz, KernelGeneration } from './run-args.js';
import { type SimulateOptions, simulate } from './simulate.js';

/** One axis of a sweep: every value is tried with every value of the other axes. */
export type SweepAxis = { labels?: readonly string[] } & (
  | { key: 'image-size'; values: readonly number[] }
  | { key: 'machine'; values: readonly MachineInput[] }
  | { key: 'hz'; values: readonly Hz[] }
  | { key: 'kernel'; values: readonly KernelGeneration[] }
  | { key: 'profile'; values: readonly DeviceProfile[] }
  | { key: 'poll'; values: readonly ('msleep' | 'fine')[] }
);
export type SweepKey = SweepAxis['key'];
export const SWEEP_KEYS: readonly SweepKey[] = ['image-size', 'machine', 'hz', 'kernel', 'profile', 'poll'];
export const MAX_SWEEP_POINTS = 10_000;

/** The figures of one run that a comparison needs. */
export interface RunFigures {
  outcome: string;
  /** Why the run did not update the machine, in one line; null when it did. */
  why: string | null;
  returnCode: number;
  stopWindowNs: number | null;
  stagingNs: number;
  reloadNs: number;
  stagingOk: boolean;
  bytesStaged: number;
  resends: number;
}

export interface ComparePoint {
  label: string;
  /** The machine of this point: name and CPU count (a machine sweep changes it). */
  machine: string;
  /** The image of this point: where it came from and its size. */
  image: string;
  /** The sweep values of this point, as labelled (the axis' labels, or the values as text). */
  params: Record<string, string>;
  off: RunFigures;
  on: RunFigures;
  /** How much shorter the stop window is with staging, in percent of the unstaged one. */
  stopWindowReductionPct: number | null;
}

export interface CompareOptions {
  sweep?: readonly SweepAxis[];
  /** Whole results are kept for the first this many points (the HTML report shows them). Default 4. */
  keepResults?: number;
  /** Called after every run (two per point). */
  onRun?: (runsDone: number, runsPlanned: number, label: string) => void;
}

export interface CompareReport {
  schema: 'ucode-staging/compare@1';
  points: ComparePoint[];
  /** Both results of the first `keepResults` points (all of them for a single point). */
  kept: { label: string; off: SimulationResult; on: SimulationResult; onPolicy: string }[];
}

/** The staging policy of the "on" run: the given one, except that `off` compares against `auto`. */
function onPolicy(opts: SimulateOptions): 'auto' | 'require' {
  return opts.policy?.staging === 'require' ? 'require' : 'auto';
}

/**
 * Run the same machine and image with staging off and on, at every point of the
 * sweep, and compare the stop window, staging time and whole reload.
 */
export function compare(base: SimulateOptions, options: CompareOptions = {}): CompareReport {
  const points = sweepPoints(options.sweep ?? []);
  const keep = points.length === 1 ? 1 : (options.keepResults ?? 4);
  const planned = points.length * 2;
  const report: CompareReport = { schema: 'ucode-staging/compare@1', points: [], kept: [] };
  let done = 0;
  for (const point of points) {
    const opts = point.apply(base);
    const label = point.label;
    const stagingOn = onPolicy(opts);
    const run = (staging: 'off' | 'auto' | 'require'): SimulationResult => {
      const r = simulate({ ...opts, policy: { ...opts.policy, staging } });
      options.onRun?.(++done, planned, label);
      return r;
    };
    const off = run('off');
    const on = run(stagingOn);
    const offF = figuresOf(off);
    const onF = figuresOf(on);
    report.points.push({
      label,
      machine: `${on.machine.name} (${on.machine.cpus} CPUs)`,
      image: on.image ? `${on.image.source}, ${on.image.totalSize} bytes` : 'none',
      params: point.params,
      off: offF,
      on: onF,
      stopWindowReductionPct:
        offF.stopWindowNs && onF.stopWindowNs !== null
          ? Math.round((1 - onF.stopWindowNs / offF.stopWindowNs) * 1000) / 10
          : null,
    });
    if (report.kept.length < keep) report.kept.push({ label, off, on, onPolicy: stagingOn });
  }
  return report;
}

/** Exit-status sense of a comparison: both runs of every point updated the machine. */
export function compareSucceeded(report: CompareReport): boolean {
  return report.points.every((p) => p.off.outcome === 'updated' && p.on.outcome === 'updated');
}

export function figuresOf(r: SimulationResult): RunFigures {
  return {
    outcome: r.outcome,
    why: whyNotUpdated(r),
    returnCode: r.returnCode,
    stopWindowNs: r.stopWindow?.durationNs ?? null,
    stagingNs: r.staging.durationNs,
    reloadNs: r.reload.durationNs,
    stagingOk: r.staging.ok,
    bytesStaged: r.staging.bytesSent,
    resends: r.staging.resends,
  };
}

/** Why a run did not update the machine, in one line (null when it did): the kernel's own words where it has them. */
export function whyNotUpdated(r: SimulationResult): string | null {
  if (r.outcome === 'updated') return null;
  if (r.panicMessage) return r.panicMessage;
  if (r.stuck) return `${r.stuck.where}: ${r.stuck.reason}`;
  if (r.hangReason) return r.hangReason;
  const lastError = [...r.log].reverse().find((l) => l.level === 'err' || l.level === 'warn');
  const returned =
    r.writeReturn === null ? 'the write never returned' : `reload returned ${r.returnCodeName}`;
  return lastError ? `${returned}; ${lastError.text}` : returned;
}

interface SweepPoint {
  label: string;
  params: Record<string, string>;
  apply: (base: SimulateOptions) => SimulateOptions;
}

function sweepPoints(axes: readonly SweepAxis[]): SweepPoint[] {
  let count = 1;
  for (const axis of axes) {
    if (axis.values.length === 0) throw new RangeError(`sweep ${axis.key}: no values`);
    if (axis.labels && axis.labels.length !== axis.values.length)
      throw new RangeError(
        `sweep ${axis.key}: ${axis.labels.length} labels for ${axis.values.length} values`,
      );
    count *= axis.values.length;
    if (count > MAX_SWEEP_POINTS) throw new RangeError(`the sweep has more than ${MAX_SWEEP_POINTS} points`);
  }
  let points: SweepPoint[] = [{ label: '', params: {}, apply: (o) => o }];
  for (const axis of axes) {
    points = points.flatMap((p) =>
      axis.values.map((value, i) => {
        const text = axis.labels?.[i] ?? labelOf(value);
        const params = { ...p.params, [axis.key]: text };
        return {
          params,
          label: Object.entries(params)
            .map(([k, v]) => `${k}=${v}`)
            .join(' '),
          apply: (o: SimulateOptions) => applyAxis(p.apply(o), axis.key, value),
        };
      }),
    );
  }
  return points;
}

function labelOf(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    const v = value as { name?: unknown; kind?: unknown };
    return String(v.name ?? v.kind ?? JSON.stringify(value));
  }
  return String(value);
}

function applyAxis(o: SimulateOptions, key: SweepKey, value: unknown): SimulateOptions {
  switch (key) {
    case 'image-size': {
      // A size is a synthetic image: it replaces any firmware given.
      const { firmware: _dropped, ...rest } = o;
      return { ...rest, syntheticImageBytes: value as number };
    }
    case 'machine':
      return { ...o, machine: value as MachineInput };
    case 'hz':
      return { ...o, cost: { ...o.cost, hz: value as Hz } };
    case 'kernel':
      return { ...o, cost: { ...o.cost, kernelGeneration: value as KernelGeneration } };
    case 'profile':
      return { ...o, profiles: [{ value: value as DeviceProfile }] };
    case 'poll':
      return { ...o, policy: { ...o.policy, poll: value as 'msleep' | 'fine' } };
  }
}
