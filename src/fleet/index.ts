/**
 * `fleet`: a late load planned across many hosts. Probe reports, saved probe trees and inventory
 * rows go into a FleetPlanner; hosts of one shape are simulated once; the report counts verdicts,
 * gives the stop-window distribution with and without staging, the hosts at risk and a rollout
 * in waves. Pure: the caller reads the files.
 */
export {
  buildFleetReport,
  DEFAULT_PAUSE_BUDGET_NS,
  DEFAULT_WAVE,
  type FleetSettings,
  PAUSE_BUDGET_SOURCE,
  waveSizeOf,
  weightedStats,
} from './analysis.js';
export { csvCell, FLEET_CSV_HEADER } from './csv.js';
export { type FleetReportInput, type Histogram, renderFleetReport, stopWindowHistogram } from './html.js';
export {
  columnName as inventoryColumnName,
  csvRecords,
  csvSegments,
  DEFAULT_INVENTORY_HZ,
  DEFAULT_INVENTORY_KERNEL,
  INVENTORY_COLUMNS,
  type InventoryRow,
  type InventoryValue,
  inventoryCsvRows,
  inventoryKernel,
  inventoryRow,
  type LineProblem,
  MAX_INVENTORY_COUNT,
  rowHostName,
  unknownColumns,
} from './inventory.js';
export {
  type FleetJob,
  fingerprint,
  type InventoryImage,
  type InventoryJob,
  type InventoryKernel,
  jobKey,
  runFleetJob,
  type TreeJob,
  treeEntry,
} from './jobs.js';
export { type FleetOptions, FleetPlanner, jobFailure, type ResolvedRow } from './planner.js';
export {
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
export { type FleetFigures, type HostSummary, readProbeDocument, summaryKey } from './summary.js';
export { formatFleetSummary, longDuration, RISK_LABELS, VERDICT_LABELS } from './text.js';

import type { FleetReport } from './report-types.js';

/** The report as `fleet --json` writes it (schema ucode-staging/fleet@1). */
export function fleetJson(report: FleetReport): string {
  return JSON.stringify(report, null, 2);
}
