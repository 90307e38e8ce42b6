import { decodeBcdDate, fmsFileName } from '../format/index.js';
import type { LateLoadReport } from '../kernel/core.js';
import { errnoName } from '../kernel/errno.js';
import type { IntelMicrocodeDriver } from '../kernel/intel/driver.js';
import type { Policy } from '../kernel/policy.js';
import { formatDmesg, type KernelLog } from '../kernel/printk.js';
import { CPU_RESULTS } from '../kernel/timelines.js';
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
  // The per-CPU records are made when first read (an output, a check), not here: at 65,536
  // CPUs they are about 19 MB of objects, more than V8's young generation, and a caller
  // that only wants the outcome, the stop window or the counts never reads them. What
  // they are made from is fixed now: the kernel's per-CPU arrays and each CPU's revision.
  const revisionsAfter = new Uint32Array(topo.cpus);
  for (let cpu = 0; cpu < topo.cpus; cpu++) revisionsAfter[cpu] = machine.revisionOf(cpu);

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
  const head = {
    schema: 'ucode-staging/result@2' as const,
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
  };
  // `cpus` goes between `reload` and `applies` (the JSON's key order), as an accessor made
  // when first read. Its get and set are the same two functions for every result: accessors
  // of an object literal are new closures per result, which gives every result a map of its
  // own (a campaign's checks of each result were then about a fifth slower).
  lazyCpus.set(head, () => cpuRecords(load, topo, r.revisionsBefore, revisionsAfter));
  Object.defineProperty(head, 'cpus', CPUS_PROPERTY);
  const result: SimulationResult = Object.assign(head as typeof head & Pick<SimulationResult, 'cpus'>, {
    applies: machine.applyLog,
    devices,
    log: r.log.lines,
    dmesg: formatDmesg(r.log.lines),
    trace: { spans: r.tracer.spans, counters: r.tracer.counters },
  });
  if (r.recorder) Object.defineProperty(result, 'mmio', { value: r.recorder, enumerable: false });
  return result;
}

/** Each result's per-CPU records, or what makes them until they are first read. */
const lazyCpus = new WeakMap<object, CpuRecord[] | (() => CpuRecord[])>();

const CPUS_PROPERTY: PropertyDescriptor = {
  get(this: object): CpuRecord[] {
    const v = lazyCpus.get(this);
    if (typeof v !== 'function') return v ?? [];
    const made = v();
    lazyCpus.set(this, made);
    return made;
  },
  set(this: object, value: CpuRecord[]) {
    lazyCpus.set(this, value);
  },
  enumerable: true,
  configurable: true,
};

/**
 * One record per present CPU, from the kernel's per-CPU arrays. A plain indexed
 * loop with one object literal: at 65,536 CPUs these records are most of what
 * the result allocates.
 */
function cpuRecords(
  load: LateLoadReport,
  topo: Machine['topology'],
  revisionsBefore: Uint32Array,
  revisionsAfter: Uint32Array,
): CpuRecord[] {
  const tl = load.timelines;
  const { packageOf, coreOf, threadOf, apicId } = topo;
  const { online, primary, ctrlCpu, stoppedNs, arrivedNs, releasedNs, applyStartNs, applyEndNs, doneNs } = tl;
  const windowEndNs = load.stopWindow ? load.stopWindow.endNs : Number.NaN;
  const hasWindow = load.stopWindow !== undefined;
  const n = tl.count;
  // Sized once: growing by push() copies the array of 65,536 references several times.
  const cpus: CpuRecord[] = new Array(n);
  for (let cpu = 0; cpu < n; cpu++) {
    const isOnline = online[cpu] === 1;
    cpus[cpu] = {
      cpu,
      package: packageOf[cpu]!,
      core: coreOf[cpu]!,
      thread: threadOf[cpu]!,
      apicId: apicId[cpu]!,
      primary: primary[cpu] === 1,
      online: isOnline,
      ctrlCpu: ctrlCpu[cpu]!,
      result: CPU_RESULTS[tl.result[cpu]!]!,
      revisionBefore: revisionsBefore[cpu]!,
      revisionAfter: revisionsAfter[cpu]!,
      stoppedNs: stoppedNs[cpu]!,
      arrivedNs: arrivedNs[cpu]!,
      releasedNs: releasedNs[cpu]!,
      applyStartNs: applyStartNs[cpu]!,
      applyEndNs: applyEndNs[cpu]!,
      doneNs: doneNs[cpu]!,
      stoppedForNs: hasWindow && isOnline ? windowEndNs - stoppedNs[cpu]! : 0,
    };
  }
  return cpus;
}

function sum<T>(items: readonly T[] | undefined, value: (item: T) => number): number {
  let s = 0;
  for (const item of items ?? []) s += value(item);
  return s;
}
