/**
 * ucode-staging: an executable model of Intel microcode late loading with the
 * Linux 6.19 staging feature. Everything exported here runs in a browser too.
 */
export { type SimulateOptions, SimulationInputError, simulate, resolveMachine } from './sim/simulate.js';
export type { CpuRecord, DeviceRecord, SimulationResult, StagingSummary } from './sim/result-types.js';
export { syntheticImageFor, REALISTIC_IMAGE_BYTES } from './sim/synthetic.js';
export { PRESETS, DEFAULT_PRESET } from './platform/presets.js';
export { type MachineSpec, type MachineSpecInput, parseMachineSpec, MachineSpecError } from './platform/machine-spec.js';
export { type Policy, type PolicyInput, KERNEL_POLICY } from './kernel/policy.js';
export { type FirmwareSource, MemoryFirmware } from './kernel/firmware.js';
export { type CostModel, DEFAULT_COST_MODEL, COST_MODEL_SOURCES } from './time/cost-model.js';
export { DEVICE_FAULT_KINDS, type DeviceFault, type DeviceProfile } from './platform/mailbox/config.js';
export { formatDmesg, dmesgTimestamp } from './kernel/printk.js';
export * as format from './format/index.js';
