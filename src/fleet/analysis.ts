import type { CostModelOverrides } from '../platform/machine-spec.js';
import { VERDICT_KINDS, type VerdictKind } from '../probe/verdict.js';
import {
  FLEET_SCHEMA,
  FLEET_SOURCES,
  type FleetProblem,
  type FleetReport,
  type FleetShapeReport,
  type FleetSource,
  type FleetStats,
  type HeldBack,
  RISK_KINDS,
  type RiskKind,
  type StagingTotals,
  type WaveGroup,
  type Where,
} from './report-types.js';
import type { FleetFigures, HostSummary } from './summary.js';

/**
 * The default pause budget: 10 s. Microsoft's Azure documentation ("Maintenance for virtual
 * machines in Azure") says most VM-impacting maintenance pauses a VM for less than 10 seconds;
 * a host's stop window pauses every guest on it. A planning figure, not a kernel limit.
 */
export const DEFAULT_PAUSE_BUDGET_NS = 10e9;
export const PAUSE_BUDGET_SOURCE =
  'Azure documents that most VM-impacting maintenance pauses a VM for less than 10 seconds (learn.microsoft.com/azure/virtual-machines/maintenance-and-updates); a planning figure, change it with --pause-budget';
export const DEFAULT_WAVE = { share: 0.1 } as const;

export interface FleetSettings {
  pauseBudgetNs?: number;
  /** Where the budget comes from, when not the default's. */
  pauseBudgetSource?: string;
  /** At most this many hosts, or this share (0 < share <= 1) of the planned hosts, per wave. */
  wave?: { hosts: number } | { share: number };
  /** Time between waves (checks, soak), added to the rollout's wall time. */
  waveGapNs?: number;
  /** Put hosts whose load taints the kernel in the rollout (after the others). */
  includeUnsafe?: boolean;
  /** Cost-model overrides laid over every model run (reported in the settings). */
  cost?: CostModelOverrides | null;
}

/** One shape as accumulated: its summary and its hosts. */
export interface ShapeAccum {
  summary: HostSummary;
  hosts: number;
  examples: string[];
  firstSeen: Where;
  sources: Set<FleetSource>;
}

export interface ReportMeta {
  simulated: number;
  /** Hosts by where they came from. */
  sources: Record<FleetSource, number>;
  problems: FleetProblem[];
  problemCount: number;
}

/** Would the host load (verdict safe or unsafe, with figures for the host as it is)? */
function loads(s: HostSummary): boolean {
  return (
    (s.verdict.kind === 'safe' || s.verdict.kind === 'unsafe') &&
    s.prediction !== null &&
    s.prediction.hypothetical === null
  );
}

function plannedRun(s: HostSummary): FleetShapeReport['planned'] {
  const p = s.prediction;
  if (p === null) return null;
  // Unknown staging support (MSRs unreadable): the unstaged figure, the longer one, is planned.
  if (p.thisHost === 'with-staging' && p.withStaging !== null)
    return { run: 'with-staging', ...p.withStaging };
  return { run: 'without-staging', ...p.withoutStaging };
}

function risksOf(
  planned: FleetShapeReport['planned'],
  fallback: FleetFigures | null,
  budgetNs: number,
): RiskKind[] {
  const risks: RiskKind[] = [];
  if (planned === null) return risks;
  const over = planned.stopWindowNs !== null && planned.stopWindowNs > budgetNs;
  if (fallback !== null) {
    if (fallback.outcome === 'panic') risks.push('fallback-panic');
    else if (fallback.outcome !== 'updated') risks.push('fallback-fails');
  }
  if (over) risks.push('over-budget');
  else if (
    fallback !== null &&
    fallback.outcome === 'updated' &&
    fallback.stopWindowNs !== null &&
    fallback.stopWindowNs > budgetNs
  )
    risks.push('fallback-over-budget');
  return risks;
}

/** Nearest-rank statistics of values weighted by host counts. */
export function weightedStats(values: readonly { value: number; hosts: number }[]): FleetStats | null {
  const sorted = values.filter((v) => v.hosts > 0).sort((a, b) => a.value - b.value);
  const hosts = sorted.reduce((n, v) => n + v.hosts, 0);
  if (hosts === 0) return null;
  const at = (share: number): number => {
    const rank = Math.max(1, Math.ceil(share * hosts));
    let seen = 0;
    for (const v of sorted) {
      seen += v.hosts;
      if (seen >= rank) return v.value;
    }
    return sorted[sorted.length - 1]!.value;
  };
  return {
    hosts,
    minNs: sorted[0]!.value,
    medianNs: at(0.5),
    p99Ns: at(0.99),
    maxNs: sorted[sorted.length - 1]!.value,
  };
}

function totals(items: readonly { ns: number; hosts: number }[]): StagingTotals {
  let hosts = 0;
  let totalNs = 0;
  let maxNs = 0;
  for (const i of items) {
    hosts += i.hosts;
    totalNs += i.ns * i.hosts;
    maxNs = Math.max(maxNs, i.ns);
  }
  return { hosts, totalNs, maxNs };
}

/** The number of hosts per wave for `planned` hosts. */
export function waveSizeOf(wave: { hosts: number } | { share: number }, planned: number): number {
  if ('hosts' in wave) return Math.max(1, Math.floor(wave.hosts));
  return Math.max(1, Math.ceil(wave.share * planned - 1e-9));
}

interface Placed {
  shape: FleetShapeReport;
  start: number;
}

/** Waves over the ordered shapes, consecutive waves of the same make-up joined into one group. */
function waveGroups(order: readonly FleetShapeReport[], size: number): WaveGroup[] {
  const groups: WaveGroup[] = [];
  const push = (g: WaveGroup): void => {
    const last = groups[groups.length - 1];
    const same =
      last !== undefined &&
      last.hostsPerWave === g.hostsPerWave &&
      last.shapes.length === 1 &&
      g.shapes.length === 1 &&
      last.shapes[0]!.shape === g.shapes[0]!.shape;
    if (same) last.last = g.last;
    else groups.push(g);
  };
  let wave = 0;
  let i = 0;
  let left = order[0]?.hosts ?? 0;
  while (i < order.length) {
    const s = order[i]!;
    if (left >= size * 2) {
      const k = Math.floor(left / size) - 1;
      push({
        first: wave + 1,
        last: wave + k,
        hostsPerWave: size,
        shapes: [{ shape: s.id, hosts: size }],
        wallNsEach: s.planned!.reloadNs,
        stopWindowMaxNs: s.planned!.stopWindowNs,
      });
      wave += k;
      left -= k * size;
      continue;
    }
    // One wave, filled from this shape and the next ones.
    const members: { shape: number; hosts: number }[] = [];
    let room = size;
    let wall = 0;
    let stop: number | null = null;
    while (room > 0 && i < order.length) {
      const cur = order[i]!;
      const take = Math.min(room, left);
      if (take > 0) {
        members.push({ shape: cur.id, hosts: take });
        wall = Math.max(wall, cur.planned!.reloadNs);
        const sw = cur.planned!.stopWindowNs;
        if (sw !== null) stop = stop === null ? sw : Math.max(stop, sw);
      }
      room -= take;
      left -= take;
      if (left === 0) {
        i++;
        left = order[i]?.hosts ?? 0;
      }
    }
    wave++;
    push({
      first: wave,
      last: wave,
      hostsPerWave: size - room,
      shapes: members,
      wallNsEach: wall,
      stopWindowMaxNs: stop,
    });
  }
  return groups;
}

/** The wave of the k-th host (0-based, in input order) of a planned shape. */
export function waveOf(placed: { start: number }, k: number, waveSize: number): number {
  return Math.floor((placed.start + k) / waveSize) + 1;
}

function riskRank(s: FleetShapeReport): number[] {
  const r = s.risks;
  return [
    s.verdict.kind === 'unsafe' ? 1 : 0,
    r.includes('fallback-panic') || r.includes('fallback-fails') ? 1 : 0,
    r.includes('fallback-over-budget') ? 1 : 0,
    s.planned?.stopWindowNs ?? 0,
    s.planned?.reloadNs ?? 0,
    s.id,
  ];
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** The report of a fleet from its shapes: counts, distributions, risks and the rollout plan. */
export function buildFleetReport(
  accums: readonly ShapeAccum[],
  settings: FleetSettings,
  meta: ReportMeta,
): { report: FleetReport; placed: Map<number, Placed> } {
  const budget = settings.pauseBudgetNs ?? DEFAULT_PAUSE_BUDGET_NS;
  const wave = settings.wave ?? DEFAULT_WAVE;
  const gap = settings.waveGapNs ?? 0;
  const includeUnsafe = settings.includeUnsafe ?? false;

  const shapes: FleetShapeReport[] = accums.map((a, i) => {
    const s = a.summary;
    const planned = loads(s) ? plannedRun(s) : null;
    const fallback =
      planned?.run === 'with-staging' && s.prediction !== null ? { ...s.prediction.withoutStaging } : null;
    const risks = risksOf(planned, fallback, budget);
    let heldBack: HeldBack | null = null;
    if (planned !== null) {
      if (risks.includes('over-budget')) heldBack = 'over-budget';
      else if (s.verdict.kind === 'unsafe' && !includeUnsafe) heldBack = 'taints';
    }
    return {
      id: i + 1,
      hosts: a.hosts,
      examples: [...a.examples],
      firstSeen: a.firstSeen,
      sources: FLEET_SOURCES.filter((x) => a.sources.has(x)),
      ...s,
      planned,
      fallback,
      risks,
      rollout: {
        planned: planned !== null && heldBack === null,
        heldBack,
        order: null,
        firstWave: null,
        lastWave: null,
      },
    };
  });

  const verdicts = Object.fromEntries(VERDICT_KINDS.map((k) => [k, 0])) as Record<VerdictKind, number>;
  const staging = {
    intelHosts: 0,
    capable: 0,
    capableWithKernel: 0,
    capableNeedsKernel: 0,
    notCapable: 0,
    unknown: 0,
  };
  for (const s of shapes) {
    verdicts[s.verdict.kind] += s.hosts;
    if (s.vendor === 'GenuineIntel' && s.verdict.kind !== 'not-applicable') {
      staging.intelHosts += s.hosts;
      if (s.staging.support === 'supported') {
        staging.capable += s.hosts;
        if (s.staging.kernelHasStaging === true) staging.capableWithKernel += s.hosts;
        else staging.capableNeedsKernel += s.hosts;
      } else if (s.staging.support === 'not-supported') staging.notCapable += s.hosts;
      else staging.unknown += s.hosts;
    }
  }

  const loading = shapes.filter((s) => s.planned !== null);
  const value = (f: FleetFigures | null | undefined) => f?.stopWindowNs ?? null;
  const stats = (pick: (s: FleetShapeReport) => number | null): FleetStats | null =>
    weightedStats(
      loading.flatMap((s) => {
        const v = pick(s);
        return v === null ? [] : [{ value: v, hosts: s.hosts }];
      }),
    );
  const withStaging = (s: FleetShapeReport) => s.prediction?.withStaging ?? s.prediction?.withoutStaging;

  const risks = Object.fromEntries(
    RISK_KINDS.map((k) => [k, { hosts: 0, shapes: [] as number[] }]),
  ) as Record<RiskKind, { hosts: number; shapes: number[] }>;
  for (const s of shapes)
    for (const r of s.risks) {
      risks[r].hosts += s.hosts;
      risks[r].shapes.push(s.id);
    }

  const order = shapes
    .filter((s) => s.rollout.planned)
    .sort((a, b) => compareRanks(riskRank(a), riskRank(b)));
  const plannedHosts = order.reduce((n, s) => n + s.hosts, 0);
  const size = waveSizeOf(wave, plannedHosts);
  const placed = new Map<number, Placed>();
  let start = 0;
  for (const [i, s] of order.entries()) {
    s.rollout.order = i + 1;
    s.rollout.firstWave = waveOf({ start }, 0, size);
    s.rollout.lastWave = waveOf({ start }, s.hosts - 1, size);
    placed.set(s.id, { shape: s, start });
    start += s.hosts;
  }
  const groups = waveGroups(order, size);
  const waves = groups.length === 0 ? 0 : groups[groups.length - 1]!.last;
  const reloadNs = groups.reduce((t, g) => t + (g.last - g.first + 1) * g.wallNsEach, 0);
  const gapsNs = waves > 1 ? (waves - 1) * gap : 0;
  const heldBack: Record<HeldBack, number> = { taints: 0, 'over-budget': 0 };
  for (const s of shapes) if (s.rollout.heldBack !== null) heldBack[s.rollout.heldBack] += s.hosts;

  const report: FleetReport = {
    schema: FLEET_SCHEMA,
    settings: {
      pauseBudgetNs: budget,
      pauseBudgetSource:
        settings.pauseBudgetSource ??
        (budget === DEFAULT_PAUSE_BUDGET_NS ? PAUSE_BUDGET_SOURCE : 'set for this plan with --pause-budget'),
      wave: 'hosts' in wave ? { hosts: wave.hosts } : { share: wave.share },
      waveGapNs: gap,
      includeUnsafe,
      cost: settings.cost ?? null,
    },
    inputs: {
      hosts: shapes.reduce((n, s) => n + s.hosts, 0),
      shapes: shapes.length,
      simulated: meta.simulated,
      sources: { ...meta.sources },
      problems: meta.problemCount,
    },
    verdicts,
    staging: {
      ...staging,
      capableShare: staging.intelHosts === 0 ? null : staging.capable / staging.intelHosts,
    },
    stopWindow: {
      hosts: loading.reduce((n, s) => n + s.hosts, 0),
      withStaging: stats((s) => value(withStaging(s))),
      withoutStaging: stats((s) => value(s.prediction?.withoutStaging)),
      asPlanned: stats((s) => s.planned?.stopWindowNs ?? null),
    },
    stagingTime: {
      asPlanned: totals(
        loading
          .filter((s) => s.planned!.run === 'with-staging')
          .map((s) => ({ ns: s.planned!.stagingNs, hosts: s.hosts })),
      ),
      ifAllCapableStaged: totals(
        loading
          .filter((s) => s.prediction!.withStaging !== null)
          .map((s) => ({ ns: s.prediction!.withStaging!.stagingNs, hosts: s.hosts })),
      ),
    },
    risks,
    rollout: {
      hosts: plannedHosts,
      waveSize: size,
      waves,
      wallNs: reloadNs + gapsNs,
      reloadNs,
      gapsNs,
      groups,
      heldBack,
    },
    shapes,
    problems: meta.problems,
    problemsOmitted: meta.problemCount - meta.problems.length,
  };
  return { report, placed };
}
