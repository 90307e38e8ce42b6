import type { CpuAvailability, HostPort } from '../platform/host-port.js';
import type { CostModel } from '../time/cost-model.js';
import { EBADFD, EBUSY, EIO, ENOENT, EOPNOTSUPP } from './errno.js';
import { KERNEL_LIMITS } from './limits.js';
import type { MicrocodeOps, StagingOutcome } from './ops.js';
import type { Policy } from './policy.js';
import { hex, hex08, type KernelLog, type TaintFlag } from './printk.js';
import { KernelDoesNotTerminate, type NonTermination } from './stuck.js';
import {
  type CpuTimeline,
  CpuTimelines,
  RESULT_OFFLINE,
  RESULT_OK,
  RESULT_TIMEOUT,
  RESULT_UPDATED,
  resultCode,
} from './timelines.js';
import type { Tracer } from './trace.js';

const US = 1_000;
/** wait_for_cpus(): USEC_PER_SEC iterations of a 1 us delay. */
const RENDEZVOUS_STEPS = KERNEL_LIMITS.rendezvousWaitUs;
/** wait_for_ctrl(): the same for a sibling waiting on its primary. */
const SIBLING_STEPS = KERNEL_LIMITS.siblingWaitUs;
/** kick_offline_cpus(): USEC_PER_SEC / 2 iterations of udelay(1). */
const OFFLINE_KICK_STEPS = KERNEL_LIMITS.offlineKickUs;
/** What `echo 1 > reload` writes: "1\n", so a successful write returns 2. */
const RELOAD_WRITE_BYTES = 2;

export type { CpuResult, CpuTimeline } from './timelines.js';

export type LoadOutcome =
  | 'updated'
  | 'partial'
  | 'no-change'
  | 'failed'
  | 'not-found'
  | 'bad-firmware'
  | 'busy'
  | 'aborted'
  | 'panic'
  | 'hang'
  /** The writing task loops for ever in kernel code (the machine keeps running; the write never returns). */
  | 'kernel-does-not-terminate';

/** The kernel's tally of ucode_ctrl.result over the present CPUs. */
export interface LoadCounts {
  updated: number;
  siblings: number;
  failed: number;
  timedOut: number;
  offline: number;
}

/** From the first CPU stopped to the last one done. */
export interface StopWindow {
  startNs: number;
  endNs: number;
}

/** How stop_machine ended, as the rendezvous returns it. */
export type RendezvousOutcome =
  | { kind: 'released'; window: StopWindow }
  /** A sibling gave up on its primary: panic() at `atNs`, which the machine does not survive. */
  | { kind: 'panic'; atNs: number; primary: number; message: string }
  /** stop_machine waits for `cpu`, which never gets there or never leaves the handler: the reload never returns. */
  | { kind: 'hang'; cpu: number; reason: string; stuck: NonTermination };

export interface LateLoadReport {
  outcome: LoadOutcome;
  /**
   * What load_late_locked() returns: 0 or -errno. NaN when the write never
   * returns (panic, hang, kernel-does-not-terminate): there is no return value.
   */
  returnCode: number;
  /**
   * What reload_store() returns to the write(2): the bytes written (2, for "1\n")
   * when load_late_locked() returned 0, else its -errno; null when it never returns.
   */
  writeReturn: number | null;
  /** Whether the write returned at all. */
  returned: boolean;
  safe: boolean;
  /** Any taint flag set (see `taints`). */
  tainted: boolean;
  /** The kernel's taint flags after the run: TAINT_WARN from a WARN, TAINT_CPU_OUT_OF_SPEC from the load. */
  taints: TaintFlag[];
  oldRevision: number;
  newRevision: number;
  counts: LoadCounts;
  staging: StagingOutcome | undefined;
  stopWindow: StopWindow | undefined;
  /** Every present CPU's ucode_ctrl and timeline. */
  timelines: CpuTimelines;
  startNs: number;
  endNs: number;
  panicMessage?: string;
  /** Why the machine never came back from stop_machine (the kernel prints nothing: it is stuck). */
  hangReason?: string;
  /** Where the kernel would loop or wait for ever (outcomes 'hang' and 'kernel-does-not-terminate'). */
  stuck?: NonTermination;
}

/**
 * One late load's state, as core.c keeps it in statics (late_cpus_in,
 * offline_in_nmi, cpu_offline_mask, the per-CPU ucode_ctrl) and in
 * load_late_stop_cpus()'s locals. Each step reads and writes this one struct.
 */
export interface LateLoadRun {
  readonly startNs: number;
  /** old_rev: boot_cpu_data.microcode before the load. */
  readonly oldRevision: number;
  /** Every present CPU in CPU order: its ucode_ctrl (control CPU, result) and where it was when. */
  timelines: CpuTimelines;
  /** The same as objects, a snapshot made when read (the load itself never needs them). */
  readonly cpus: CpuTimeline[];
  /** cpu_online_mask: the CPUs stop_machine runs the handler on, in CPU order. */
  online: Int32Array;
  /** cpu_offline_mask: soft-offlined SMT siblings that CPU 0 kicks by NMI. */
  readonly offline: number[];
  /** late_cpus_in: online CPUs not yet at the rendezvous, plus those that gave up waiting. */
  lateCpusIn: number;
  /** offline_in_nmi: offline siblings that answered CPU 0's NMI. */
  offlineInNmi: number;
  safe: boolean;
  staging: StagingOutcome | undefined;
  readonly counts: LoadCounts;
}

export interface CoreTopology {
  cpus: number;
  online(cpu: number): boolean;
  isPrimary(cpu: number): boolean;
  /** CPUs sharing `cpu`'s core, in CPU-number order (topology_sibling_cpumask before onlining). */
  coreSiblings(cpu: number): ArrayLike<number>;
}

export interface CoreOptions {
  port: HostPort;
  cpuAvailability: CpuAvailability;
  ops: MicrocodeOps;
  log: KernelLog;
  tracer: Tracer;
  policy: Policy;
  topology: CoreTopology;
  /** Kernel infrastructure costs (stop_machine, NMI) come from the same cost model. */
  cost: CostModel;
}

/** The parts of a report known only on some of the ways a load ends. */
type ReportEnd = Partial<
  Pick<LateLoadReport, 'newRevision' | 'stopWindow' | 'panicMessage' | 'hangReason' | 'stuck'>
>;

/** The ways a late load ends without the reload write ever returning. */
const NEVER_RETURNS: ReadonlySet<LoadOutcome> = new Set(['panic', 'hang', 'kernel-does-not-terminate']);

/**
 * The vendor-neutral microcode core (Linux core.c): driver init and the late
 * load with its stop_machine + NMI rendezvous. CPUs that run in parallel are
 * simulated one after another at their own virtual times; each wait loop of
 * 1 us steps becomes one computed crossing time instead of a million steps.
 */
export class MicrocodeCore {
  constructor(private readonly o: CoreOptions) {}

  /** microcode_init(): vendor init, per-CPU info, the boot messages. */
  init(): void {
    const { ops, topology, log } = this.o;
    ops.init();
    for (let cpu = 0; cpu < topology.cpus; cpu++) if (topology.online(cpu)) ops.collectCpuInfo(cpu);
    log.prInfo(`Current revision: ${hex08(ops.bootRevision)}`);
  }

  /** echo 1 > /sys/devices/system/cpu/microcode/reload */
  reload(): LateLoadReport {
    const { port, ops } = this.o;
    const run = newLateLoadRun(port.now(), ops.bootRevision);
    if (!setupCpus(this.o, run)) return this.finish(run, 'busy', -EBUSY);
    switch (ops.requestMicrocodeFw(0)) {
      case 'new':
        return this.loadLateStopCpus(run, false);
      case 'new-safe':
        return this.loadLateStopCpus(run, true);
      case 'not-found':
        return this.finish(run, 'not-found', -ENOENT);
      default:
        return this.finish(run, 'bad-firmware', -EBADFD);
    }
  }

  private loadLateStopCpus(run: LateLoadRun, isSafe: boolean): LateLoadReport {
    const { port, ops, log, policy } = this.o;
    run.safe = isSafe;
    if (!isSafe) {
      log.prErr('Late microcode loading without minimal revision check.');
      log.prErr('You should switch to early loading, if possible.');
    }

    // Staging is preemptible and needs no stopped CPUs; if it fails the load goes on unstaged.
    if (ops.useStaging) {
      try {
        run.staging = ops.stageMicrocode();
      } catch (err) {
        if (!(err instanceof KernelDoesNotTerminate)) throw err;
        return this.finish(run, 'kernel-does-not-terminate', Number.NaN, { stuck: err.stuck });
      }
    }
    if (policy.staging === 'require' && !run.staging?.ok) {
      const err = run.staging?.errno || -EOPNOTSUPP;
      log.prOurs(
        'err',
        `Staging required but ${run.staging ? `failed (${err})` : 'not available'}: late load aborted.`,
        'policy staging=require: the kernel has no such policy and prints no such line',
      );
      ops.finalizeLateLoad(true);
      return this.finish(run, 'aborted', err);
    }

    const stopped = rendezvous(this.o, run);
    if (stopped.kind === 'panic') {
      return this.finish(run, 'panic', Number.NaN, { panicMessage: stopped.message });
    }
    if (stopped.kind === 'hang') {
      return this.finish(run, 'hang', Number.NaN, { hangReason: stopped.reason, stuck: stopped.stuck });
    }
    const stopWindow = stopped.window;
    port.runAt(stopWindow.endNs);

    // Analyze the results over every present CPU.
    const c = run.counts;
    const { result, count } = run.timelines;
    for (let cpu = 0; cpu < count; cpu++) {
      switch (result[cpu]) {
        case RESULT_UPDATED:
          c.updated++;
          break;
        case RESULT_TIMEOUT:
          c.timedOut++;
          break;
        case RESULT_OK:
          c.siblings++;
          break;
        case RESULT_OFFLINE:
          c.offline++;
          break;
        default:
          c.failed++;
      }
    }
    ops.finalizeLateLoad(c.updated === 0);
    const onlineCount = run.online.length;

    if (c.updated === 0) {
      if (c.failed === 0 && c.timedOut === 0) return this.finish(run, 'no-change', 0, { stopWindow });
      if (c.offline < run.offline.length) {
        log.prWarn(`${run.offline.length - run.offlineInNmi} offline siblings did not respond.`);
        return this.finish(run, 'failed', -EIO, { stopWindow });
      }
      log.prErr(`update failed: ${c.failed} CPUs failed ${c.timedOut} CPUs timed out`);
      return this.finish(run, 'failed', -EIO, { stopWindow });
    }
    if (!isSafe || c.failed > 0 || c.timedOut > 0) log.addTaint('TAINT_CPU_OUT_OF_SPEC');
    log.prInfo(`load: updated on ${c.updated} primary CPUs with ${c.siblings} siblings`);
    if (c.failed || c.timedOut) {
      log.prErr(`load incomplete. ${onlineCount - (c.updated + c.siblings)} CPUs timed out or failed`);
    }
    const newRevision = ops.bootRevision;
    log.prInfo(`revision: ${hex(run.oldRevision)} -> ${hex(newRevision)}`);
    const rc = c.updated + c.siblings === onlineCount ? 0 : -EIO;
    return this.finish(run, rc === 0 ? 'updated' : 'partial', rc, { newRevision, stopWindow });
  }

  /**
   * The report of a load that ended now. A panicked or hung machine, or a task
   * stuck in a kernel loop, never returns from the reload write: it gets no
   * return value and no reload span.
   */
  private finish(
    run: LateLoadRun,
    outcome: LoadOutcome,
    returnCode: number,
    end: ReportEnd = {},
  ): LateLoadReport {
    const endNs = this.o.port.now();
    const returned = !NEVER_RETURNS.has(outcome);
    if (returned) this.o.tracer.span('reload', 'reload', 0, run.startNs, endNs, { returnCode });
    const taints = [...this.o.log.taints];
    return {
      outcome,
      returnCode: returned ? returnCode : Number.NaN,
      writeReturn: returned ? (returnCode === 0 ? RELOAD_WRITE_BYTES : returnCode) : null,
      returned,
      safe: run.safe,
      tainted: taints.length > 0,
      taints,
      oldRevision: run.oldRevision,
      newRevision: end.newRevision ?? run.oldRevision,
      counts: run.counts,
      staging: run.staging,
      stopWindow: end.stopWindow,
      timelines: run.timelines,
      startNs: run.startNs,
      endNs,
      panicMessage: end.panicMessage,
      hangReason: end.hangReason,
      stuck: end.stuck,
    };
  }
}

export function newLateLoadRun(startNs: number, oldRevision: number): LateLoadRun {
  return {
    startNs,
    oldRevision,
    timelines: new CpuTimelines(0),
    get cpus(): CpuTimeline[] {
      return this.timelines.asObjects();
    },
    online: new Int32Array(0),
    offline: [],
    lateCpusIn: 0,
    offlineInNmi: 0,
    safe: false,
    staging: undefined,
    counts: { updated: 0, siblings: 0, failed: 0, timedOut: 0, offline: 0 },
  };
}

/**
 * setup_cpus(): every primary thread must be online; offline SMT siblings can
 * be reached by NMI and are handled by CPU 0. Returns false (after printing
 * why) when the load must not go on; `run.cpus` then ends at that CPU.
 */
export function setupCpus(
  o: Pick<CoreOptions, 'log' | 'topology'> & { ops: Pick<MicrocodeOps, 'nmiSafe' | 'useNmi'> },
  run: LateLoadRun,
): boolean {
  const { ops, log, topology } = o;
  const allowSmtOffline = ops.nmiSafe || ops.useNmi;
  const n = topology.cpus;
  const tl = new CpuTimelines(n);
  run.timelines = tl;
  const onlineCpus = new Int32Array(n);
  let onlineCount = 0;
  for (let cpu = 0; cpu < n; cpu++) {
    const online = topology.online(cpu);
    const primary = topology.isPrimary(cpu);
    if (!online) {
      if (primary || !allowSmtOffline) {
        log.prErr(`CPU ${cpu} not online, loading aborted`);
        return false;
      }
      run.offline.push(cpu);
    }
    tl.count = cpu + 1;
    tl.online[cpu] = online ? 1 : 0;
    tl.primary[cpu] = primary ? 1 : 0;
    tl.ctrlCpu[cpu] = online ? firstOnline(topology, cpu) : cpu;
    if (online) onlineCpus[onlineCount++] = cpu;
  }
  run.online = onlineCpus.subarray(0, onlineCount);
  return true;
}

/** What the rendezvous uses: it only schedules CPUs in virtual time and calls the vendor's apply. */
export interface RendezvousEnv extends Pick<CoreOptions, 'cpuAvailability' | 'log' | 'tracer' | 'cost'> {
  port: Pick<HostPort, 'now' | 'runAt'>;
  ops: Pick<MicrocodeOps, 'applyMicrocode'>;
}

/**
 * stop_machine() on every online CPU, each entering the microcode NMI handler.
 * Returns how it ended: released (with the stop window), a panic, or a hang.
 */
export function rendezvous(o: RendezvousEnv, run: LateLoadRun): RendezvousOutcome {
  const { port, log, tracer } = o;
  const { timelines: tl, online, offline } = run;
  const T0 = port.now();
  run.lateCpusIn = online.length;
  const missing = stopCpus(o, run, T0);
  if (missing >= 0) {
    // multi_cpu_stop() has no timeout: every other CPU acknowledges its state and waits for this one.
    const reason = `stop_machine never completes: CPU ${missing} never reached stop_machine`;
    return {
      kind: 'hang',
      cpu: missing,
      reason,
      stuck: {
        where: 'multi_cpu_stop()',
        loop: 'do { ... } while (curstate != MULTI_STOP_EXIT): each state waits for every CPU to acknowledge it',
        reason: `CPU ${missing}'s stop_machine thread never runs, so no CPU passes the first state and none enters the microcode handler; no timeout applies and nothing is printed`,
        bound: 'none: the model knows at once that the CPU never gets there',
      },
    };
  }
  // If CPU 0 never arrives it never kicks anyone: the machine hangs in stop_machine below.
  const cpu0Proceeds = offline.length === 0 || !Number.isFinite(tl.arrivedNs[0]!) || kickOfflineCpus(o, run);
  // A CPU 0 that gave up on the offline siblings skips the load and never joins the count.
  const counted = cpu0Proceeds ? online : online.filter((cpu) => cpu !== 0);

  if (waitForCpus(o, run, counted)) {
    loadPrimaries(o, tl, counted);
    const panic = loadSecondaries(o, tl, counted);
    if (panic) {
      port.runAt(panic.atNs);
      const message = `Microcode load: Primary CPU ${panic.primary} timed out`;
      log.printk('emerg', `Kernel panic - not syncing: ${message}`);
      // panic() ends with its end marker (the stack dump and notifiers in between are not modelled).
      log.printk('emerg', `---[ end Kernel panic - not syncing: ${message} ]---`);
      return { kind: 'panic', atNs: panic.atNs, primary: panic.primary, message };
    }
  } else {
    const stuck = online.find((cpu) => !Number.isFinite(tl.arrivedNs[cpu]!));
    // stop_machine waits for every CPU to finish the handler: it never returns.
    if (stuck !== undefined) {
      const reason = `stop_machine never completes: CPU ${stuck} never reached the rendezvous`;
      return {
        kind: 'hang',
        cpu: stuck,
        reason,
        stuck: {
          where: 'multi_cpu_stop()',
          loop: 'do { ... } while (curstate != MULTI_STOP_EXIT): the other CPUs left the handler and wait for the last acknowledgement',
          reason: `CPU ${stuck} passed stop_machine's barrier but never reached the microcode handler, so it never finishes its part; the others timed out in wait_for_cpus() and wait in stop_machine for it`,
          bound: 'none: the model knows at once that the CPU never gets there',
        },
      };
    }
  }

  releaseOfflineCpus(run);
  const startNs = -maxOf(online, tl.stoppedNs, -1);
  const endNs = maxOf(online, tl.doneNs, 1);
  if (tracer.enabled) {
    for (const cpu of online) tracer.span('stop_machine', 'stop_machine', cpu, tl.stoppedNs[cpu]!, endNs);
  }
  return { kind: 'released', window: { startNs, endNs } };
}

/**
 * stop_machine(): each CPU's stopper thread is woken in turn (late if the CPU
 * is held before it, stopMachineDelayNs). multi_cpu_stop() moves every CPU
 * through its states together: no CPU runs load_cpus_stopped() before the last
 * one has acknowledged, so the handler starts after the latest stopper. Each CPU
 * then raises an NMI to itself and reaches the handler (later if held there,
 * stallNs). Returns the CPU that never reaches stop_machine, if one does not (else -1).
 */
function stopCpus(o: RendezvousEnv, run: LateLoadRun, T0: number): number {
  const { cost, cpuAvailability } = o;
  const { online } = run;
  const { stoppedNs, arrivedNs } = run.timelines;
  let barrier = T0;
  let missing = -1;
  for (let k = 0; k < online.length; k++) {
    const cpu = online[k]!;
    let stopped = T0 + cost.stopMachineEntryNs + k * cost.stopMachineFanoutNs;
    const late = cpuAvailability.stopMachineDelayNs(cpu);
    if (!Number.isFinite(late)) {
      stoppedNs[cpu] = stopped;
      if (missing < 0) missing = cpu;
      continue;
    }
    stopped += late;
    stoppedNs[cpu] = stopped;
    barrier = Math.max(barrier, stopped);
  }
  if (missing >= 0) {
    stoppedNs[missing] = Number.NaN;
    return missing;
  }
  for (let k = 0; k < online.length; k++) {
    const cpu = online[k]!;
    arrivedNs[cpu] = barrier + cpuAvailability.stallNs(cpu) + cost.nmiSelfIpiNs;
  }
  return -1;
}

/**
 * kick_offline_cpus(): CPU 0 sends each soft-offlined sibling an NMI and waits
 * up to 0.5 s (udelay(1) steps) for all of them to check in. Returns whether
 * they did; CPU 0's arrival at the rendezvous moves to the end of the wait.
 */
function kickOfflineCpus(o: RendezvousEnv, run: LateLoadRun): boolean {
  const { cost, cpuAvailability, tracer } = o;
  const { timelines: tl, offline } = run;
  const kickStart = tl.arrivedNs[0]!;
  let latest = kickStart;
  for (const cpu of offline) {
    const respond = kickStart + cost.nmiSelfIpiNs + cpuAvailability.stallNs(cpu);
    if (Number.isFinite(respond)) {
      tl.result[cpu] = RESULT_OFFLINE;
      tl.arrivedNs[cpu] = respond;
      run.offlineInNmi++;
    }
    latest = Math.max(latest, respond);
  }
  const steps = Math.ceil((latest - kickStart) / US);
  const proceeded = steps < OFFLINE_KICK_STEPS;
  const endNs = kickStart + (proceeded ? steps : OFFLINE_KICK_STEPS) * US;
  if (proceeded) tl.arrivedNs[0] = endNs;
  // Without its siblings CPU 0 skips the load; it is done when it stops waiting.
  else tl.doneNs[0] = endNs;
  tracer.span('offline_kick', 'kick offline siblings', 0, kickStart, endNs, {
    offline: offline.length,
    proceeded,
  });
  return proceeded;
}

/** release_offline_cpus(): CPU 0 lets the offline siblings go at the end of its part. */
function releaseOfflineCpus(run: LateLoadRun): void {
  const { timelines: tl } = run;
  for (const cpu of run.offline) {
    if (tl.result[cpu] === RESULT_OFFLINE) tl.doneNs[cpu] = Math.max(tl.doneNs[0]!, tl.arrivedNs[cpu]!);
  }
}

/**
 * wait_for_cpus(): everyone waits for the last arrival, for at most 1 s in
 * 1 us steps. Returns whether all were released; otherwise every CPU timed out
 * (one that gives up re-increments the counter, so nobody sees zero after it).
 */
function waitForCpus(o: RendezvousEnv, run: LateLoadRun, counted: Int32Array): boolean {
  const { arrivedNs, releasedNs } = run.timelines;
  const lastArrival =
    counted.length === run.online.length ? maxOf(counted, arrivedNs, 1) : Number.POSITIVE_INFINITY;
  for (let k = 0; k < counted.length; k++) {
    if (!(lastArrival - arrivedNs[counted[k]!]! < RENDEZVOUS_STEPS * US)) {
      timeoutAll(o, run, counted);
      return false;
    }
  }
  run.lateCpusIn -= counted.length;
  const { tracer } = o;
  for (let k = 0; k < counted.length; k++) {
    const cpu = counted[k]!;
    const arrived = arrivedNs[cpu]!;
    const released = arrived + Math.ceil((lastArrival - arrived) / US) * US;
    releasedNs[cpu] = released;
    if (tracer.enabled) tracer.span('rendezvous', 'wait_for_cpus', cpu, arrived, released);
  }
  return true;
}

/** __load_primary(): each core's control CPU applies, in parallel with the other cores. */
function loadPrimaries(o: RendezvousEnv, tl: CpuTimelines, counted: Int32Array): void {
  const { ctrlCpu, releasedNs } = tl;
  for (let k = 0; k < counted.length; k++) {
    const cpu = counted[k]!;
    if (ctrlCpu[cpu] === cpu) apply(o, tl, cpu, releasedNs[cpu]!);
  }
}

/**
 * load_secondary(): a sibling waits (1 s at most) for its primary, then applies
 * if the primary updated or was current, else copies its result. The first
 * sibling to give up panics the machine: nothing that would start after that
 * moment happens. Returns that panic.
 */
function loadSecondaries(
  o: RendezvousEnv,
  tl: CpuTimelines,
  counted: Int32Array,
): { atNs: number; primary: number } | undefined {
  const { ctrlCpu, releasedNs, doneNs, result } = tl;
  let panic: { atNs: number; primary: number } | undefined;
  // The waiting siblings and when each stops waiting, in CPU order.
  const waitCpu = new Int32Array(counted.length);
  const waitStart = new Float64Array(counted.length);
  let waits = 0;
  let sorted = true;
  for (let k = 0; k < counted.length; k++) {
    const cpu = counted[k]!;
    const primary = ctrlCpu[cpu]!;
    if (primary === cpu) continue;
    const released = releasedNs[cpu]!;
    const steps = Math.ceil(Math.max(0, doneNs[primary]! - released) / US);
    if (steps >= SIBLING_STEPS) {
      const atNs = released + SIBLING_STEPS * US;
      if (!panic || atNs < panic.atNs) panic = { atNs, primary };
      continue;
    }
    const start = released + steps * US;
    if (waits > 0 && start < waitStart[waits - 1]!) sorted = false;
    waitCpu[waits] = cpu;
    waitStart[waits++] = start;
  }
  // In time order (a stable sort: equal times keep CPU order); usually they already are.
  let order: ArrayLike<number> | undefined;
  if (!sorted) {
    const idx = Array.from({ length: waits }, (_, i) => i);
    idx.sort((a, b) => waitStart[a]! - waitStart[b]! || a - b);
    order = idx;
  }
  const { tracer } = o;
  for (let j = 0; j < waits; j++) {
    const w = order === undefined ? j : order[j]!;
    const cpu = waitCpu[w]!;
    const start = waitStart[w]!;
    // After panic() the machine is stopped: a sibling still waiting then never goes on.
    if (panic && start >= panic.atNs) continue;
    if (tracer.enabled) tracer.span('wait_primary', 'wait for primary', cpu, releasedNs[cpu]!, start);
    const primaryResult = result[ctrlCpu[cpu]!]!;
    if (primaryResult === RESULT_UPDATED || primaryResult === RESULT_OK) apply(o, tl, cpu, start);
    else {
      tl.applyStartNs[cpu] = start;
      tl.applyEndNs[cpu] = start;
      doneNs[cpu] = start;
      result[cpu] = primaryResult;
    }
  }
  return panic;
}

function apply(o: RendezvousEnv, tl: CpuTimelines, cpu: number, startNs: number): void {
  const { port, ops, tracer } = o;
  port.runAt(startNs);
  tl.applyStartNs[cpu] = startNs;
  const state = ops.applyMicrocode(cpu);
  tl.result[cpu] = resultCode(state);
  const endNs = port.now();
  tl.applyEndNs[cpu] = endNs;
  tl.doneNs[cpu] = endNs;
  if (tracer.enabled) tracer.span('apply', `apply (${state})`, cpu, startNs, endNs, { result: state });
}

/**
 * Every counted CPU gives up after 1 s, in time order, each re-incrementing
 * late_cpus_in. `load: %d CPUs timed out` is pr_err_once() at two call sites,
 * __load_primary() and load_secondary(): the first primary and the first
 * secondary to give up each print it, with late_cpus_in - 1 at that moment.
 */
function timeoutAll(o: RendezvousEnv, run: LateLoadRun, counted: Int32Array): void {
  const { port, log, tracer } = o;
  const tl = run.timelines;
  const events: { t: number; delta: number; cpu: number }[] = [];
  for (const cpu of counted) {
    const arrived = tl.arrivedNs[cpu]!;
    if (!Number.isFinite(arrived)) continue;
    events.push({ t: arrived, delta: -1, cpu: -1 });
    events.push({ t: arrived + RENDEZVOUS_STEPS * US, delta: +1, cpu });
  }
  events.sort((a, b) => a.t - b.t || a.delta - b.delta);
  for (const e of events) {
    run.lateCpusIn += e.delta;
    const cpu = e.cpu;
    if (cpu < 0) continue;
    tl.result[cpu] = RESULT_TIMEOUT;
    tl.releasedNs[cpu] = e.t;
    tl.doneNs[cpu] = e.t;
    tracer.span('rendezvous', 'wait_for_cpus (timed out)', cpu, tl.arrivedNs[cpu]!, e.t);
    port.runAt(e.t);
    const site = tl.ctrlCpu[cpu] === cpu ? '__load_primary' : 'load_secondary';
    log.prErrOnce(`${site}.timeout`, `load: ${run.lateCpusIn - 1} CPUs timed out`);
  }
}

function firstOnline(topology: CoreTopology, cpu: number): number {
  const siblings = topology.coreSiblings(cpu);
  for (let i = 0; i < siblings.length; i++) if (topology.online(siblings[i]!)) return siblings[i]!;
  return cpu;
}

/**
 * The largest of `sign * values[cpu]` over `cpus` (NaN if any is NaN), without
 * spreading (machines have tens of thousands of CPUs); sign -1 gives minus the minimum.
 */
function maxOf(cpus: Int32Array, values: Float64Array, sign: 1 | -1): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < cpus.length; k++) {
    const v = sign * values[cpus[k]!]!;
    if (v > m || Number.isNaN(v)) m = v;
  }
  return m;
}
