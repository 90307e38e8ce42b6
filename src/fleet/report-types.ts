import type { CostModelOverrides } from '../platform/machine-spec.js';
import type { VerdictKind } from '../probe/verdict.js';
import type { FleetFigures, HostSummary } from './summary.js';

export const FLEET_SCHEMA = 'ucode-staging/fleet@1';

/** Where a host came from. */
export type FleetSource = 'probe-json' | 'probe-tree' | 'inventory';
export const FLEET_SOURCES: readonly FleetSource[] = ['probe-json', 'probe-tree', 'inventory'];

/** A file, and the line in it when there is one (an inventory row, a JSON syntax error). */
export interface Where {
  file: string;
  line: number | null;
}

/** An input that was skipped: which file and line, and why. */
export interface FleetProblem extends Where {
  message: string;
}

/**
 * Why a host that would load is at risk:
 * - `over-budget`: its stop window as planned is longer than the pause budget;
 * - `fallback-panic`: it stages, and if staging fails the unstaged load that follows keeps a
 *   primary thread in MSR 0x79 past the 1 s its SMT siblings wait: the kernel panics;
 * - `fallback-fails`: if staging fails, the unstaged load ends otherwise than updated;
 * - `fallback-over-budget`: if staging fails, the unstaged stop window is over the budget.
 */
export type RiskKind = 'over-budget' | 'fallback-panic' | 'fallback-fails' | 'fallback-over-budget';
export const RISK_KINDS: readonly RiskKind[] = [
  'fallback-panic',
  'fallback-fails',
  'over-budget',
  'fallback-over-budget',
];

/** Why a host that would load is not in the rollout. */
export type HeldBack = 'taints' | 'over-budget';

/** min, median, p99 and max of a figure over hosts (nearest rank: the smallest value at least that share of hosts reach). */
export interface FleetStats {
  hosts: number;
  minNs: number;
  medianNs: number;
  p99Ns: number;
  maxNs: number;
}

export interface StagingTotals {
  hosts: number;
  totalNs: number;
  maxNs: number;
}

/** Consecutive waves of the same make-up, `first` to `last` (numbered from 1). */
export interface WaveGroup {
  first: number;
  last: number;
  hostsPerWave: number;
  shapes: { shape: number; hosts: number }[];
  /** The longest reload of a host in the wave: the wave's wall time (its hosts load in parallel). */
  wallNsEach: number;
  /** The longest stop window of a host in the wave. */
  stopWindowMaxNs: number | null;
}

export interface FleetShapeReport extends HostSummary {
  /** 1, 2, ... in the order shapes were first seen. */
  id: number;
  hosts: number;
  /** A few of its hosts, in input order. */
  examples: string[];
  firstSeen: Where;
  sources: FleetSource[];
  /** The run this host would do as it is: staged when its CPU and kernel stage, else unstaged. */
  planned: ({ run: 'with-staging' | 'without-staging' } & FleetFigures) | null;
  /** When it stages: the unstaged load a staging failure falls back to. */
  fallback: FleetFigures | null;
  risks: RiskKind[];
  rollout: {
    planned: boolean;
    heldBack: HeldBack | null;
    /** Its place in the rollout order (1 = first), its hosts' first and last wave. */
    order: number | null;
    firstWave: number | null;
    lastWave: number | null;
  };
}

/** The whole `fleet --json` document (schema ucode-staging/fleet@1; docs/fleet.md). */
export interface FleetReport {
  schema: typeof FLEET_SCHEMA;
  settings: {
    pauseBudgetNs: number;
    pauseBudgetSource: string;
    wave: { hosts: number } | { share: number };
    waveGapNs: number;
    includeUnsafe: boolean;
    cost: CostModelOverrides | null;
  };
  inputs: {
    hosts: number;
    shapes: number;
    /** Model jobs run (each distinct tree or inventory shape once). */
    simulated: number;
    sources: Record<FleetSource, number>;
    problems: number;
  };
  verdicts: Record<VerdictKind, number>;
  staging: {
    /** Hosts with an Intel CPU (the others are not applicable). */
    intelHosts: number;
    /** The CPU enumerates staging (MSR 0x10a bit 16 and MSR 0x7b bit 4). */
    capable: number;
    /** ... and the kernel stages (6.19+). */
    capableWithKernel: number;
    /** ... but the kernel is older than 6.19 (or unknown). */
    capableNeedsKernel: number;
    notCapable: number;
    unknown: number;
    /** capable / intelHosts, null without Intel hosts. */
    capableShare: number | null;
  };
  stopWindow: {
    /** Hosts that would load (verdict safe or unsafe). */
    hosts: number;
    /** Staged wherever the CPU can stage (on a 6.19 kernel). */
    withStaging: FleetStats | null;
    /** Every host unstaged. */
    withoutStaging: FleetStats | null;
    /** Each host as it is: staged only where CPU and kernel both stage. */
    asPlanned: FleetStats | null;
  };
  stagingTime: { asPlanned: StagingTotals; ifAllCapableStaged: StagingTotals };
  risks: Record<RiskKind, { hosts: number; shapes: number[] }>;
  rollout: {
    hosts: number;
    waveSize: number;
    waves: number;
    /** Reloads (each wave's longest) plus the gaps between waves. */
    wallNs: number;
    reloadNs: number;
    gapsNs: number;
    groups: WaveGroup[];
    heldBack: Record<HeldBack, number>;
  };
  shapes: FleetShapeReport[];
  problems: FleetProblem[];
  /** Problems counted but not listed (beyond the first 1,000). */
  problemsOmitted: number;
}
