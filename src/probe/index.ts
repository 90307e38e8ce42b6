/**
 * `probe`: what a late load would do on a real host, from the host's files as data.
 * collectHostFiles() asks a HostReader for exactly the files it needs (the CLI's reader is
 * the file system, read-only); probeHost() turns them into facts, a verdict in the kernel's
 * terms and a model prediction; formatProbeReport() and probeReportJson() print it.
 */
export { type CollectOptions, collectHostFiles } from './collect-host.js';
export { type CpuIdentity, signatureOf } from './cpu-identity.js';
export { type DerivedMachine, deriveMachine } from './derived-machine.js';
export { firmwareSearchPaths } from './firmware-search.js';
export { type HostFacts, readHostFacts } from './host-facts.js';
export {
  CPU_SYSFS,
  entryText,
  type HostEntry,
  type HostFiles,
  type HostReader,
  MAX_FIRMWARE_FILE_BYTES,
  MAX_TEXT_FILE_BYTES,
  MemoryHostReader,
  msrDevicePath,
  type ReadRequest,
} from './host-files.js';
export { type HostCpu, type HostTopology, stagingWalk } from './host-topology.js';
export { type LoaderFacts, readLoaderFacts } from './kernel-loader.js';
export { MSR } from './msr-facts.js';
export {
  parseCmdline,
  parseCpuinfo,
  parseCpuList,
  parseKernelConfig,
  parseRelease,
} from './parse-host-text.js';
export { type Prediction, type PredictionFigures, predict } from './prediction.js';
export {
  PROBE_SCHEMA,
  type ProbeOptions,
  type ProbeReport,
  type ProbeResult,
  probeExitStatus,
  probeHost,
} from './probe-report.js';
export { formatProbeReport } from './render-report.js';
export type { StagingFacts } from './staging-facts.js';
export type { UpdateFacts } from './update.js';
export { VERDICT_KINDS, type Verdict, type VerdictKind } from './verdict.js';

import type { ProbeReport } from './probe-report.js';

/** The report as `probe --json` prints it (schema ucode-staging/probe@1). */
export function probeReportJson(report: ProbeReport): string {
  return JSON.stringify(report, null, 2);
}
