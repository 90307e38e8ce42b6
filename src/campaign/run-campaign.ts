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
  schema: 'ucode-staging/campaign@1';
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

/** Whether the run's injected mailbox fault took effect at least once. */
function faultFired(rec: RunRecord): boolean {
  const r = rec.result;
  if (!r) return false;
  if (rec.run.fault?.kind === 'mailbox-absent') return r.staging.packages.some((p) => p.errno === -99);
  if (rec.run.fault?.kind === 'mailbox-msr-fault') return r.staging.reason === 'mailbox-msr-fault';
  return r.devices.some((d) => d.faultsFired > 0);
}

interface RowAcc {
  row: TableRow;
  windows: number[];
}

function emptyRow(fault: TableRow['fault'], policy: TableRow['policy']): TableRow {
  return {
    fault,
    policy,
    runs: 0,
    stagedOk: 0,
    fellBack: 0,
    aborted: 0,
    panicked: 0,
    hung: 0,
    violations: 0,
    stopWindowNs: null,
  };
}

function tally(acc: RowAcc, rec: RunRecord, failed: boolean): void {
  const row = acc.row;
  row.runs++;
  if (failed) row.violations++;
  const r = rec.result;
  if (!r) return;
  if (r.staging.ok) row.stagedOk++;
  else if (r.staging.attempted && r.outcome !== 'aborted') row.fellBack++;
  if (r.outcome === 'aborted') row.aborted++;
  if (r.outcome === 'panic') row.panicked++;
  if (r.outcome === 'hang') row.hung++;
  if (r.outcome !== 'panic' && r.stopWindow && Number.isFinite(r.stopWindow.durationNs))
    acc.windows.push(r.stopWindow.durationNs);
}

/** Nearest-rank percentiles. */
export function percentiles(values: number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

/** N seeded runs over the space, each checked against every invariant. */
export function runCampaign(o: CampaignOptions): CampaignReport {
  const invariants = o.invariants ?? INVARIANTS;
  const every = o.determinismEvery ?? 50;
  const maxFailures = o.maxFailures ?? 1000;
  const sim = o.simulate ?? simulate;
  const clock = o.clock ?? (() => 0);
  const start = clock();
  const rows = new Map<string, RowAcc>();
  const total: RowAcc = { row: emptyRow('all', 'all'), windows: [] };
  const tallies = new Map<InvariantName, InvariantTally>(
    invariants.map((inv) => [
      inv.name,
      { name: inv.name, description: inv.description, checks: 0, violations: 0 },
    ]),
  );
  const failing: FailingRun[] = [];
  const outcomes: Record<string, number> = {};
  let failingCount = 0;
  let faultsInjected = 0;
  let faultsFired = 0;
  let determinismChecks = 0;

  for (let index = 0; index < o.runs; index++) {
    const run = drawRun(o.space, runSeed(o.seed, index));
    const rec = executeRun(index, run, sim);
    let violations = checkRun(
      rec,
      invariants.filter((i) => i.name !== 'deterministic'),
    );
    const sampled = every > 0 && index % every === 0;
    const wantsDeterminism = invariants.some((i) => i.name === 'deterministic');
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
      if (failing.length < maxFailures) {
        failing.push({ index, seed: run.seed, fault: run.faultLabel, policy: run.policy, violations, run });
      }
    }

    const key = `${run.faultLabel}|${run.policy}`;
    let acc = rows.get(key);
    if (!acc) {
      acc = { row: emptyRow(run.faultLabel, run.policy), windows: [] };
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
    o.onProgress?.(index + 1, o.runs, failingCount);
  }

  const order = (f: TableRow['fault']) => (f === 'none' ? '' : f);
  const sortedRows = [...rows.values()]
    .sort(
      (a, b) =>
        order(a.row.fault).localeCompare(order(b.row.fault)) ||
        String(a.row.policy).localeCompare(String(b.row.policy)),
    )
    .map((acc) => ({ ...acc.row, stopWindowNs: percentiles(acc.windows) }));
  return {
    schema: 'ucode-staging/campaign@1',
    seed: o.seed,
    runs: o.runs,
    rows: sortedRows,
    total: { ...total.row, stopWindowNs: percentiles(total.windows) },
    invariants: [...tallies.values()],
    failingCount,
    failing,
    outcomes,
    faultsInjected,
    faultsFired,
    determinismChecks,
    wallMs: clock() - start,
  };
}

// ---- the table ----

const rightAligned = (header: string): TableColumn => ({ header, align: 'right' });
const CAMPAIGN_COLUMNS: readonly TableColumn[] = [
  { header: 'fault' },
  { header: 'policy' },
  ...[
    'runs',
    'staged ok',
    'fell back',
    'aborted',
    'panicked',
    'hung',
    'violations',
    'stop p50 ms',
    'p90',
    'p99',
    'max',
  ].map(rightAligned),
];

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
