/**
 * ucode-staging: an executable model of Intel microcode late loading with the
 * Linux 6.19 staging feature. This module is the public API; the CLI is one
 * client of it and imports nothing else. Everything exported here runs in a
 * browser too.
 */

export {
  campaignJson,
  failingRunsText,
  formatCampaignReport,
  replayCommand,
} from './campaign/campaign-output.js';
export { INVARIANT_NAMES, INVARIANTS, type Invariant, type Violation } from './campaign/invariants.js';
// ---- campaigns ----
export {
  CampaignMergeError,
  type CampaignOptions,
  type CampaignPart,
  type CampaignReport,
  type FailingRun,
  formatCampaignTable,
  formatInvariantTally,
  joinCampaignParts,
  mergeCampaignParts,
  runCampaign,
  runCampaignSlice,
  type SimulateFn,
} from './campaign/run-campaign.js';
export {
  ALL_FAULT_CHOICES,
  type CampaignSpace,
  DEFAULT_SPACE,
  drawRun,
  type FaultChoice,
  type FaultPlacement,
  type MachineChoice,
  type ProfileChoice,
  replayArgs,
  replayMachineFile,
  runSeed,
  STAGING_POLICIES,
  type StagingPolicy,
  simulateOptions as campaignRunOptions,
} from './campaign/space.js';
// ---- fleet: a late load planned across many hosts ----
export * as fleet from './fleet/index.js';
export {
  FLEET_CSV_HEADER,
  FLEET_SCHEMA,
  type FleetJob,
  type FleetOptions,
  FleetPlanner,
  type FleetProblem,
  type FleetReport,
  type FleetShapeReport,
  fleetJson,
  formatFleetSummary,
  type HostSummary,
  type InventoryImage,
  type InventoryRow,
  type InventoryValue,
  inventoryCsvRows,
  inventoryRow,
  type ResolvedRow,
  renderFleetReport,
  runFleetJob,
} from './fleet/index.js';
// ---- microcode files and outputs ----
export * as format from './format/index.js';
export {
  type InspectFile,
  type InspectMatch,
  inspectFile,
  inspectReport,
  renderInspectTable,
} from './format/index.js';
// ---- the kernel side and time ----
export { type FirmwareSource, MemoryFirmware } from './kernel/firmware.js';
export { KERNEL_POLICY, type Policy, type PolicyInput, PolicySchema } from './kernel/policy.js';
export { dmesgTimestamp, formatDmesg } from './kernel/printk.js';
export { formatCompareTable } from './output/compare-table.js';
export * from './output/index.js';
export { SimulationLimitError } from './platform/machine.js';
export {
  type CostModelOverrides,
  type CpuFault,
  cpuCount,
  type MachineSpec,
  MachineSpecError,
  type MachineSpecInput,
  MachineSpecSchema,
  parseMachineSpec,
} from './platform/machine-spec.js';
export {
  type DeviceFault,
  DeviceFaultSchema,
  type DeviceProfile,
  DeviceProfileSchema,
} from './platform/mailbox/config.js';
export { DEFAULT_PRESET, findPreset, PRESETS } from './platform/presets.js';
// ---- probe: what a late load would do on a real host (its files given as data) ----
export * as probe from './probe/index.js';
export {
  collectHostFiles,
  formatProbeReport,
  type HostEntry,
  type HostFiles,
  type HostReader,
  MemoryHostReader,
  PROBE_SCHEMA,
  type ProbeOptions,
  type ProbeReport,
  type ProbeResult,
  probeExitStatus,
  probeHost,
  probeReportJson,
  type ReadRequest,
} from './probe/index.js';
// ---- JSON Schemas of the JSON outputs (schemas/*.schema.json, docs/outputs.md) ----
export * as schemas from './schemas/index.js';
// ---- staging off vs on ----
export {
  type CompareOptions,
  type ComparePoint,
  type CompareReport,
  compare,
  compareSucceeded,
  figuresOf,
  MAX_SWEEP_POINTS,
  type RunFigures,
  SWEEP_KEYS,
  type SweepAxis,
  type SweepKey,
} from './sim/compare.js';
export { SimulationInputError } from './sim/errors.js';
export {
  compareJson,
  fromJson,
  HEX_JSON_FIELDS,
  RESULT_PARTS,
  type ResultPart,
  resultJson,
  toJson,
} from './sim/json.js';
// ---- machines ----
export {
  type MachineFileInput,
  type MachineInput,
  type MachineOverrides,
  machineSpecInput,
  type PackageScoped,
  presetNames,
  resolveMachine,
  withOverrides,
} from './sim/machine-input.js';
// ---- the run description's text grammar (CLI flags, replay commands) ----
export * from './sim/option-table.js';
export * from './sim/printable.js';
export type { CpuRecord, DeviceRecord, SimulationResult, StagingSummary } from './sim/result-types.js';
export * from './sim/run-args.js';
// ---- one late load ----
export { type SimulateOptions, simulate } from './sim/simulate.js';
export { REALISTIC_IMAGE_BYTES, syntheticImageFor } from './sim/synthetic.js';
export { COST_MODEL_SOURCES, type CostModel, DEFAULT_COST_MODEL } from './time/cost-model.js';
