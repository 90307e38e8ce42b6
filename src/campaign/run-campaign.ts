import { ms } from '../output/format.js';
import { formatTable, type TableColumn } from '../output/table.js';
import { parseMachineSpec } from '../platform/machine-spec.js';
import type { SimulationResult } from '../sim/result-types.js';
import { type SimulateOptions, simulate } from '../sim/simulate.js';
import { syntheticImageFor } from '../sim/synthetic.js';
import {
  checkRun,
  type HardwareState,
  INVARIANTS,
  type Invariant,
  type InvariantName,
  type RunRecord,
  resultJson,
  type Violation,
} from './invariants.js';
import {
  type CampaignSpace,
  type DrawnRun,
  drawRun,
  type FaultChoice,
  machineInput,
  runSeed,
  type StagingPolicy,
  simulateOptions,
} from './space.js';

export type SimulateFn = (opts: SimulateOptions) => SimulationResult;

export interface CampaignOptions {
  space: CampaignSpace;
  runs: number;
  seed: number;
  /** Run every n-th run a second time (and every failing run) and compare; 0: never. Default 50. */
  determinismEvery?: number;
  invariants?: readonly Invariant[];
  /** The simulator (tests swap in a broken one to see an invariant catch it). */
  simulate?: SimulateFn;
  /** Called after each run. */
  onProgress?: (done: number, total: number, failing: number) => void;
  /** Failing runs kept in the report (all are counted). Default 1000. */
  maxFailures?: number;
  /** Wall clock in ms, for the runs-per-second figure; the simulation side has none (0 by default). */
  clock?: () => number;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface TableRow {
  fault: FaultChoice | 'all';
  policy: StagingPolicy | 'all';
  runs: number;
  /** Staging succeeded on every package. */
  stagedOk: number;
  /** Staging failed and the load went on unstaged. */
  fellBack: number;
  aborted: number;
  panicked: number;
  hung: number;
  /** Outcome 'kernel-does-not-terminate': the writing task loops in the kernel for ever. */
  doesNotTerminate: number;
  /** Runs with at least one violation. */
  violations: number;
  /** Stop window in ns over the runs that stopped CPUs and came back. */
  stopWindowNs: Percentiles | null;
}

export interface FailingRun {
  index: number;
  seed: number;
  fault: FaultChoice;
  policy: StagingPolicy;
  violations: Violation[];
  run: DrawnRun;
}

export interface InvariantTally {
  name: InvariantName;
  description: string;
  checks: number;
  violations: number;
}

export interface CampaignReport {
  schema: 'ucode-staging/campaign@2';
  seed: number;
  runs: number;
  rows: TableRow[];
  total: TableRow;
  invariants: InvariantTally[];
  /** Runs with a violation (the first maxFailures of them in `failing`). */
  failingCount: number;
  failing: FailingRun[];
  outcomes: Record<string, number>;
  /** Mailbox faults drawn into runs, and how many of them fired at least once. */
  faultsInjected: number;
  faultsFired: number;
  determinismChecks: number;
  wallMs: number;
}

/** Run one drawn run, reading the hardware state in onFinish. Never throws. */
export function executeRun(index: number, run: DrawnRun, sim: SimulateFn = simulate): RunRecord {
  let hardware: HardwareState | undefined;
  let result: SimulationResult | undefined;
  let error: RunRecord['error'];
  try {
    result = sim(
      simulateOptions(run, {
        onFinish: ({ machine }) => {
          const image = expectedImage(run);
          hardware = {
            image,
            imageRevision: new DataView(image.buffer, image.byteOffset).getUint32(4, true),
            staged: machine.devices.map((d) => d?.stagedImage()),
            stagedRevision: machine.devices.map((d) => d?.stagedRevision()),
            transactions: machine.devices.map((d) => d?.transactions),
            misuse: machine.devices.map((d) => d?.misuse),
          };
        },
      }),
    );
  } catch (err) {
    error = {
      name: err instanceof Error ? err.name : 'Error',
      message: err instanceof Error ? err.message : String(err),
    };
  }
  return { index, run, result, error, hardware };
}

/** The synthetic image simulate() builds for the run (same function, same inputs). */
export function expectedImage(run: DrawnRun): Uint8Array {
  const spec = parseMachineSpec(machineInput(run));
  return syntheticImageFor(spec, { seed: run.seed, totalBytes: run.imageBytes });
}

/**
 * Whether the run's injected mailbox fault took effect at least once, by what
 * the hardware did (not by the errno it led to): a device fault fired at a
 * transaction; a missing mailbox was staged through (the host talked to an
 * address nothing decodes); MSR 0x7a5 raised #GP when the driver read it.
 */
export function faultFired(rec: RunRecord): boolean {
  const r = rec.result;
  const f = rec.run.fault;
  if (!r || !f) return false;
  if (f.kind === 'mailbox-absent') {
    return r.staging.packages.some(
      (p) => p.pkg === f.pkg && !p.msrFault && r.devices[p.pkg]?.present === false,
    );
  }
  if (f.kind === 'mailbox-msr-fault') return r.staging.packages.some((p) => p.msrFault === true);
  return r.devices.some((d) => d.faultsFired > 0);
}

/** Stop windows are counted at this resolution, so parts of a campaign merge into exactly one report. */
export const WINDOW_RESOLUTION_NS = 1000;

/** A row's counts and its stop windows as a histogram: [window in WINDOW_RESOLUTION_NS units, runs]. */
export interface RowPart {
  row: Omit<TableRow, 'stopWindowNs'>;
  windows: [number, number][];
}

interface RowAcc {
  row: Omit<TableRow, 'stopWindowNs'>;
  windows: Map<number, number>;
}

function emptyRow(fault: TableRow['fault'], policy: TableRow['policy']): RowAcc {
  const row = {
    fault,
    policy,
    runs: 0,
    stagedOk: 0,
    fellBack: 0,
    aborted: 0,
    panicked: 0,
    hung: 0,
    doesNotTerminate: 0,
    violations: 0,
  };
  return { row, windows: new Map() };
}

function tally(acc: RowAcc, rec: RunRecord, failed: boolean): void {
  const row = acc.row;
  row.runs++;
  if (failed) row.violations++;
  const r = rec.result;
  if (!r) return;
  const endless = r.outcome === 'kernel-does-not-terminate';
  if (r.staging.ok) row.stagedOk++;
  // A staging that never ends fell back to nothing: the load never went on.
  else if (r.staging.attempted && r.outcome !== 'aborted' && !endless) row.fellBack++;
  if (r.outcome === 'aborted') row.aborted++;
  if (r.outcome === 'panic') row.panicked++;
  if (r.outcome === 'hang') row.hung++;
  if (endless) row.doesNotTerminate++;
  if (r.outcome !== 'panic' && r.stopWindow && Number.isFinite(r.stopWindow.durationNs)) {
    const bucket = Math.round(r.stopWindow.durationNs / WINDOW_RESOLUTION_NS);
    acc.windows.set(bucket, (acc.windows.get(bucket) ?? 0) + 1);
  }
}

/** Nearest-rank percentiles. */
export function percentiles(values: number[]): Percentiles | null {
  return histogramPercentiles(values.map((v) => [v, 1]));
}

/** Nearest-rank percentiles of a histogram of [value, count]. */
function histogramPercentiles(histogram: readonly [number, number][]): Percentiles | null {
  const sorted = [...histogram].filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((n, [, c]) => n + c, 0);
  if (total === 0) return null;
  const at = (q: number): number => {
    const rank = Math.min(total, Math.max(1, Math.ceil(q * total)));
    let seen = 0;
    for (const [value, count] of sorted) {
      seen += count;
      if (seen >= rank) return value;
    }
    return sorted[sorted.length - 1]![0];
  };
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1]![0] };
}

/** A failing run as a part records it: the run itself is drawn again from the space and its seed. */
export interface FailingRunRef {
  index: number;
  seed: number;
  violations: Violation[];
}

/**
 * The runs [start, end) of a campaign, counted but not yet a report. Parts of
 * one campaign (same seed, runs and space) merge into exactly the report of
 * the whole run, whatever the split: that is how `--jobs` and `--shard` work.
 */
export interface CampaignPart {
  schema: 'ucode-staging/campaign-part@1';
  seed: number;
  runs: number;
  start: number;
  end: number;
  determinismEvery: number;
  space: CampaignSpace;
  rows: RowPart[];
  total: RowPart;
  invariants: InvariantTally[];
  failingCount: number;
  /** The first maxFailures failing runs of the slice, by index. */
  failing: FailingRunRef[];
  outcomes: Record<string, number>;
  faultsInjected: number;
  faultsFired: number;
  determinismChecks: number;
  wallMs: number;
}

/** Run the campaign's runs [start, end): run i is the same run whatever slice it is in. */
export function runCampaignSlice(o: CampaignOptions, start: number, end: number): CampaignPart {
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= o.runs))
    throw new RangeError(`slice [${start}, ${end}) is not within the campaign's ${o.runs} runs`);
  const invariants = o.invariants ?? INVARIANTS;
  const every = o.determinismEvery ?? 50;
  const maxFailures = o.maxFailures ?? 1000;
  const sim = o.simulate ?? simulate;
  const clock = o.clock ?? (() => 0);
  const began = clock();
  const rows = new Map<string, RowAcc>();
  const total = emptyRow('all', 'all');
  const tallies = new Map<InvariantName, InvariantTally>(
    invariants.map((inv) => [
      inv.name,
      { name: inv.name, description: inv.description, checks: 0, violations: 0 },
    ]),
  );
  const failing: FailingRunRef[] = [];
  const outcomes: Record<string, number> = {};
  let failingCount = 0;
  let faultsInjected = 0;
  let faultsFired = 0;
  let determinismChecks = 0;
  const wantsDeterminism = invariants.some((i) => i.name === 'deterministic');

  for (let index = start; index < end; index++) {
    const run = drawRun(o.space, runSeed(o.seed, index));
    const rec = executeRun(index, run, sim);
    let violations = checkRun(
      rec,
      invariants.filter((i) => i.name !== 'deterministic'),
    );
    const sampled = every > 0 && index % every === 0;
    if (wantsDeterminism && (sampled || violations.length > 0) && rec.result) {
      // A failing run is run again too: the report then says whether the failure reproduces.
      const again = executeRun(index, run, sim);
      rec.json = resultJson(rec.result);
      rec.replayJson = again.result ? resultJson(again.result) : `threw ${again.error?.name}`;
      determinismChecks++;
      violations = violations.concat(
        checkRun(
          rec,
          invariants.filter((i) => i.name === 'deterministic'),
        ),
      );
    }
    for (const inv of invariants) {
      if (inv.name !== 'deterministic' || rec.replayJson !== undefined) tallies.get(inv.name)!.checks++;
    }
    for (const v of violations) tallies.get(v.invariant)!.violations++;
    const failed = violations.length > 0;
    if (failed) {
      failingCount++;
      if (failing.length < maxFailures) failing.push({ index, seed: run.seed, violations });
    }

    const key = `${run.faultLabel}|${run.policy}`;
    let acc = rows.get(key);
    if (!acc) {
      acc = emptyRow(run.faultLabel, run.policy);
      rows.set(key, acc);
    }
    tally(acc, rec, failed);
    tally(total, rec, failed);
    const outcome = rec.result?.outcome ?? `threw ${rec.error?.name ?? ''}`.trim();
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    if (run.fault) {
      faultsInjected++;
      if (faultFired(rec)) faultsFired++;
    }
    o.onProgress?.(index + 1 - start, end - start, failingCount);
  }

  const part = (acc: RowAcc): RowPart => ({ row: acc.row, windows: [...acc.windows] });
  return {
    schema: 'ucode-staging/campaign-part@1',
    seed: o.seed,
    runs: o.runs,
    start,
    end,
    determinismEvery: every,
    space: o.space,
    rows: [...rows.values()].map(part),
    total: part(total),
    invariants: [...tallies.values()],
    failingCount,
    failing,
    outcomes,
    faultsInjected,
    faultsFired,
    determinismChecks,
    wallMs: clock() - began,
  };
}

/** Why parts cannot be merged into one campaign's report. */
export class CampaignMergeError extends Error {
  override name = 'CampaignMergeError';
}

/**
 * Contiguous parts of one campaign as one part (a shard made of worker slices,
 * or the whole run). Order does not matter; gaps, overlaps and parts of other
 * campaigns are refused. `wallMs` is the longest part's: parts run side by side.
 */
export function joinCampaignParts(parts: readonly CampaignPart[], maxFailures = 1000): CampaignPart {
  if (parts.length === 0) throw new CampaignMergeError('no parts to merge');
  const first = parts[0]!;
  const spaceJson = JSON.stringify(first.space);
  for (const p of parts) {
    if (p.schema !== 'ucode-staging/campaign-part@1')
      throw new CampaignMergeError(`not a campaign part: ${String(p.schema)}`);
    if (p.seed !== first.seed || p.runs !== first.runs || p.determinismEvery !== first.determinismEvery)
      throw new CampaignMergeError(
        `parts of different campaigns: seed ${p.seed}/${first.seed}, runs ${p.runs}/${first.runs}`,
      );
    if (JSON.stringify(p.space) !== spaceJson)
      throw new CampaignMergeError('parts of campaigns over different spaces');
  }
  const sorted = [...parts].sort((a, b) => a.start - b.start);
  let next = sorted[0]!.start;
  for (const p of sorted) {
    if (p.start !== next)
      throw new CampaignMergeError(
        p.start > next
          ? `runs ${next}..${p.start - 1} are in no part`
          : `runs from ${p.start} are in two parts`,
      );
    next = p.end;
  }

  const rows = new Map<string, RowAcc>();
  const total = emptyRow('all', 'all');
  const add = (acc: RowAcc, part: RowPart): void => {
    // A part written before a count existed has none of it.
    for (const k of COUNT_FIELDS) acc.row[k] += part.row[k] ?? 0;
    for (const [bucket, n] of part.windows) acc.windows.set(bucket, (acc.windows.get(bucket) ?? 0) + n);
  };
  const tallies = new Map<InvariantName, InvariantTally>();
  const outcomes: Record<string, number> = {};
  const failing: FailingRunRef[] = [];
  const joined = { failingCount: 0, faultsInjected: 0, faultsFired: 0, determinismChecks: 0, wallMs: 0 };
  for (const p of sorted) {
    for (const rp of p.rows) {
      const key = `${rp.row.fault}|${rp.row.policy}`;
      let acc = rows.get(key);
      if (!acc) {
        acc = emptyRow(rp.row.fault, rp.row.policy);
        rows.set(key, acc);
      }
      add(acc, rp);
    }
    add(total, p.total);
    for (const t of p.invariants) {
      const acc = tallies.get(t.name) ?? { ...t, checks: 0, violations: 0 };
      acc.checks += t.checks;
      acc.violations += t.violations;
      tallies.set(t.name, acc);
    }
    for (const [k, n] of Object.entries(p.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + n;
    joined.failingCount += p.failingCount;
    joined.faultsInjected += p.faultsInjected;
    joined.faultsFired += p.faultsFired;
    joined.determinismChecks += p.determinismChecks;
    joined.wallMs = Math.max(joined.wallMs, p.wallMs);
    failing.push(...p.failing.slice(0, Math.max(0, maxFailures - failing.length)));
  }
  const part = (acc: RowAcc): RowPart => ({
    row: acc.row,
    windows: [...acc.windows].sort((a, b) => a[0] - b[0]),
  });
  return {
    ...first,
    start: sorted[0]!.start,
    end: next,
    rows: [...rows.values()].map(part),
    total: part(total),
    invariants: [...tallies.values()],
    failing,
    outcomes,
    ...joined,
  };
}

/** The report of the whole campaign from its parts, which must cover runs [0, runs) exactly once. */
export function mergeCampaignParts(parts: readonly CampaignPart[], maxFailures = 1000): CampaignReport {
  const all = joinCampaignParts(parts, maxFailures);
  if (all.start !== 0) throw new CampaignMergeError(`runs 0..${all.start - 1} are in no part`);
  if (all.end !== all.runs) throw new CampaignMergeError(`runs ${all.end}..${all.runs - 1} are in no part`);
  const order = (f: TableRow['fault']) => (f === 'none' ? '' : f);
  const report = (rp: RowPart): TableRow => ({
    ...rp.row,
    stopWindowNs: scaled(histogramPercentiles(rp.windows)),
  });
  const sortedRows = [...all.rows]
    .sort(
      (a, b) =>
        order(a.row.fault).localeCompare(order(b.row.fault)) ||
        String(a.row.policy).localeCompare(String(b.row.policy)),
    )
    .map(report);
  return {
    schema: 'ucode-staging/campaign@2',
    seed: all.seed,
    runs: all.runs,
    rows: sortedRows,
    total: report(all.total),
    invariants: all.invariants,
    failingCount: all.failingCount,
    failing: all.failing.map((f) => {
      const run = drawRun(all.space, f.seed);
      return {
        index: f.index,
        seed: f.seed,
        fault: run.faultLabel,
        policy: run.policy,
        violations: f.violations,
        run,
      };
    }),
    outcomes: all.outcomes,
    faultsInjected: all.faultsInjected,
    faultsFired: all.faultsFired,
    determinismChecks: all.determinismChecks,
    wallMs: all.wallMs,
  };
}

const COUNT_FIELDS = [
  'runs',
  'stagedOk',
  'fellBack',
  'aborted',
  'panicked',
  'hung',
  'doesNotTerminate',
  'violations',
] as const;

function scaled(p: Percentiles | null): Percentiles | null {
  if (!p) return null;
  const ns = (units: number) => units * WINDOW_RESOLUTION_NS;
  return { p50: ns(p.p50), p90: ns(p.p90), p99: ns(p.p99), max: ns(p.max) };
}

/** N seeded runs over the space, each checked against every invariant. */
export function runCampaign(o: CampaignOptions): CampaignReport {
  const clock = o.clock ?? (() => 0);
  const began = clock();
  const report = mergeCampaignParts([runCampaignSlice(o, 0, o.runs)], o.maxFailures ?? 1000);
  return { ...report, wallMs: clock() - began };
}

// ---- the table ----

const rightAligned = (header: string): TableColumn => ({ header, align: 'right' });
const CAMPAIGN_COLUMNS: readonly TableColumn[] = [
  { header: 'fault' },
  { header: 'policy' },
  ...[
    'runs',
    'staged',
    'fell back',
    'aborted',
    'panic',
    'hang',
    'endless',
    'violated',
    'stop p50',
    'p90',
    'p99',
    'max',
  ].map(rightAligned),
];

/** What the table's columns count, printed under it. */
export const CAMPAIGN_TABLE_LEGEND = [
  'staged: every package staged; fell back: staging failed and the load went on unstaged; endless: the kernel',
  'never ends (kernel-does-not-terminate); violated: runs with a violation; stop p50..max: the stop window in ms',
  '(first CPU stopped to last released) over the runs that stopped CPUs and came back',
].join('\n');

/** The report's table: one row per fault kind and policy, then the total. */
export function formatCampaignTable(report: CampaignReport): string {
  const cells = (r: TableRow): string[] => [
    r.fault,
    r.policy,
    String(r.runs),
    String(r.stagedOk),
    String(r.fellBack),
    String(r.aborted),
    String(r.panicked),
    String(r.hung),
    String(r.doesNotTerminate),
    String(r.violations),
    ms(r.stopWindowNs?.p50, 2),
    ms(r.stopWindowNs?.p90, 2),
    ms(r.stopWindowNs?.p99, 2),
    ms(r.stopWindowNs?.max, 2),
  ];
  const lines = formatTable(CAMPAIGN_COLUMNS, report.rows.map(cells), {
    rule: true,
    footer: [cells(report.total)],
  });
  return `${lines.join('\n')}\n`;
}

/** The invariants' tally, one line each. */
export function formatInvariantTally(report: CampaignReport): string {
  // Fixed minimum widths (8 and 6 digits) keep the tally's layout the same from one campaign to the next.
  const lines = formatTable(
    [
      {},
      { align: 'right', minWidth: 8 + ' checks'.length },
      { align: 'right', minWidth: 6 + ' violations'.length },
    ],
    report.invariants.map((t) => [t.name, `${t.checks} checks`, `${t.violations} violations`]),
  );
  return `${lines.join('\n')}\n`;
}
