/**
 * ucode-staging: an executable model of Intel microcode late loading with the
 * Linux 6.19 staging feature. Everything exported here runs in a browser too.
 */

export * as format from './format/index.js';
export { type FirmwareSource, MemoryFirmware } from './kernel/firmware.js';
export { KERNEL_POLICY, type Policy, type PolicyInput } from './kernel/policy.js';
export { dmesgTimestamp, formatDmesg } from './kernel/printk.js';
export * from './output/index.js';
export {
  type MachineSpec,
  MachineSpecError,
  type MachineSpecInput,
  parseMachineSpec,
} from './platform/machine-spec.js';
export { DEVICE_FAULT_KINDS, type DeviceFault, type DeviceProfile } from './platform/mailbox/config.js';
export { DEFAULT_PRESET, PRESETS } from './platform/presets.js';
export type { CpuRecord, DeviceRecord, SimulationResult, StagingSummary } from './sim/result-types.js';
export { resolveMachine, type SimulateOptions, SimulationInputError, simulate } from './sim/simulate.js';
export { REALISTIC_IMAGE_BYTES, syntheticImageFor } from './sim/synthetic.js';
export { COST_MODEL_SOURCES, type CostModel, DEFAULT_COST_MODEL } from './time/cost-model.js';
