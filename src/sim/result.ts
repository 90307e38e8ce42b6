import { decodeBcdDate, fmsFileName } from '../format/index.js';
import type { LateLoadReport } from '../kernel/core.js';
import { errnoName } from '../kernel/errno.js';
import type { IntelMicrocodeDriver } from '../kernel/intel/driver.js';
import type { Policy } from '../kernel/policy.js';
import { formatDmesg, type KernelLog } from '../kernel/printk.js';
import type { Tracer } from '../kernel/trace.js';
import type { Machine } from '../platform/machine.js';
import type { MachineSpec } from '../platform/machine-spec.js';
import type { MmioTraceRecorder } from '../platform/mmio-trace.js';
import type { CpuRecord, DeviceRecord, SimulationResult, StagingSummary } from './result-types.js';

export interface ResultInputs {
  spec: MachineSpec;
  machine: Machine;
  policy: Policy;
  seed: number;
  load: LateLoadReport;
  /** What the driver decided and recorded: staging, the chosen image. */
  driver: Pick<IntelMicrocodeDriver, 'useStaging' | 'stagingReport' | 'pendingImage'>;
  log: KernelLog;
  tracer: Tracer;
  recorder: MmioTraceRecorder | undefined;
  revisionsBefore: Uint32Array;
  imageSource: string;
}

/** Assemble the one result object every output format is derived from. */
export function buildResult(r: ResultInputs): SimulationResult {
  const { spec, machine, load, driver } = r;
  const topo = machine.topology;
  const cpus: CpuRecord[] = load.cpus.map((t) => ({
    cpu: t.cpu,
    package: topo.packageOf[t.cpu]!,
    core: topo.coreOf[t.cpu]!,
    thread: topo.threadOf[t.cpu]!,
    apicId: topo.apicId[t.cpu]!,
    primary: t.primary,
    online: t.online,
    ctrlCpu: t.ctrlCpu,
    result: t.result,
    revisionBefore: r.revisionsBefore[t.cpu]!,
    revisionAfter: machine.revisionOf(t.cpu),
    stoppedNs: t.stoppedNs,
    arrivedNs: t.arrivedNs,
    releasedNs: t.releasedNs,
    applyStartNs: t.applyStartNs,
    applyEndNs: t.applyEndNs,
    doneNs: t.doneNs,
    stoppedForNs: load.stopWindow && t.online ? load.stopWindow.endNs - t.stoppedNs : 0,
  }));

  const st = driver.stagingReport();
  const staging: StagingSummary = {
    enabled: driver.useStaging,
    attempted: st?.attempted ?? false,
    ok: st?.ok ?? false,
    errno: st?.errno ?? 0,
    errnoName: errnoName(st?.errno ?? 0),
    reason: st?.reason ?? null,
    failedCpu: st?.failedCpu ?? null,
    failedPackage: st?.failedPackage ?? null,
    startNs: st?.startNs ?? null,
    endNs: st?.endNs ?? null,
    durationNs: st ? st.endNs - st.startNs : 0,
    bytesSent: sum(st?.packages, (p) => p.bytesSent),
    chunks: sum(st?.packages, (p) => p.chunks),
    resends: sum(st?.packages, (p) => p.resends),
    polls: sum(st?.packages, (p) => p.polls),
    packages: st?.packages ?? [],
  };

  const devices: DeviceRecord[] = machine.packageConfig.map((config, pkg) => {
    const d = machine.devices[pkg];
    return {
      package: pkg,
      mailboxPa: machine.mailboxAddress(pkg),
      present: d !== undefined,
      profile: config.profile,
      faults: config.faults,
      stagedRevision: d?.stagedRevision() ?? null,
      stagedAtNs: d?.stagedReadyNs() ?? null,
      transactions: d?.stats.transactions ?? 0,
      bytesReceived: d?.stats.bytesReceived ?? 0,
      rerequests: d?.stats.rerequests ?? 0,
      aborts: d?.stats.aborts ?? 0,
      completions: d?.stats.completions ?? 0,
      faultsFired: d?.stats.faultsFired ?? 0,
      misuse: d ? d.misuse.map((m) => ({ timeNs: m.timeNs, kind: m.kind, detail: m.detail })) : [],
    };
  });

  const image = driver.pendingImage();
  const result: SimulationResult = {
    schema: 'ucode-staging/result@2',
    seed: r.seed,
    machine: {
      name: spec.name,
      description: spec.description,
      packages: spec.packages,
      coresPerPackage: spec.coresPerPackage,
      threadsPerCore: spec.threadsPerCore,
      cpus: topo.cpus,
      onlineCpus: topo.cpus - spec.offlineCpus.length,
      signature: spec.signature,
      fms: fmsFileName(spec.signature),
      platformId: spec.platformId,
      initialRevision: spec.initialRevision,
      stagingCapable: spec.staging.archCapMcuEnum && spec.staging.mcuStaging,
      numbering: { ...spec.numbering },
    },
    costModel: { ...machine.cost },
    policy: r.policy,
    image: image
      ? {
          source: r.imageSource,
          signature: image.header.signature,
          revision: image.header.revision,
          date: decodeBcdDate(image.header.date) ?? null,
          totalSize: image.totalSize,
          minRequiredRevision: image.header.minRequiredRevision,
        }
      : null,
    outcome: load.outcome,
    returnCode: load.returnCode,
    returnCodeName: load.returned ? errnoName(load.returnCode) : 'none (the write never returns)',
    writeReturn: load.writeReturn,
    safe: load.safe,
    tainted: load.tainted,
    taints: load.taints,
    panicMessage: load.panicMessage ?? null,
    hangReason: load.hangReason ?? null,
    stuck: load.stuck ?? null,
    revision: { old: load.oldRevision, new: load.newRevision },
    counts: load.counts,
    staging,
    stopWindow: load.stopWindow
      ? { ...load.stopWindow, durationNs: load.stopWindow.endNs - load.stopWindow.startNs }
      : null,
    reload: { startNs: load.startNs, endNs: load.endNs, durationNs: load.endNs - load.startNs },
    cpus,
    applies: machine.applyLog,
    devices,
    log: r.log.lines,
    dmesg: formatDmesg(r.log.lines),
    trace: { spans: r.tracer.spans, counters: r.tracer.counters },
  };
  if (r.recorder) Object.defineProperty(result, 'mmio', { value: r.recorder, enumerable: false });
  return result;
}

function sum<T>(items: readonly T[] | undefined, value: (item: T) => number): number {
  let s = 0;
  for (const item of items ?? []) s += value(item);
  return s;
}
