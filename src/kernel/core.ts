import type { CpuAvailability, HostPort } from '../platform/host-port.js';
import type { CostModel } from '../time/cost-model.js';
import { EBADFD, EBUSY, EIO, ENOENT, EOPNOTSUPP } from './errno.js';
import { KERNEL_LIMITS } from './limits.js';
import type { MicrocodeOps, StagingOutcome, UcodeState } from './ops.js';
import type { Policy } from './policy.js';
import { hex, hex08, type KernelLog, type TaintFlag } from './printk.js';
import { KernelDoesNotTerminate, type NonTermination } from './stuck.js';
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

/** A CPU's ucode_ctrl.result after the load; 'unset' is the initial -1 (counted as failed). */
export type CpuResult = UcodeState | 'unset';

/** Where each CPU was during the late load (ns of virtual time; NaN when it did not get there). */
export interface CpuTimeline {
  cpu: number;
  online: boolean;
  primary: boolean;
  ctrlCpu: number;
  result: CpuResult;
  stoppedNs: number;
  arrivedNs: number;
  releasedNs: number;
  applyStartNs: number;
  applyEndNs: number;
  doneNs: number;
}

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
  cpus: CpuTimeline[];
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
  readonly cpus: CpuTimeline[];
  /** cpu_online_mask: the CPUs stop_machine runs the handler on. */
  online: CpuTimeline[];
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
    for (const t of run.cpus) {
      switch (t.result) {
        case 'updated':
          c.updated++;
          break;
        case 'timeout':
          c.timedOut++;
          break;
        case 'ok':
          c.siblings++;
          break;
        case 'offline':
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
      cpus: run.cpus,
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
    cpus: [],
    online: [],
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
  for (let cpu = 0; cpu < topology.cpus; cpu++) {
    const online = topology.online(cpu);
    const primary = topology.isPrimary(cpu);
    if (!online) {
      if (primary || !allowSmtOffline) {
        log.prErr(`CPU ${cpu} not online, loading aborted`);
        return false;
      }
      run.offline.push(cpu);
    }
    run.cpus.push({
      cpu,
      online,
      primary,
      ctrlCpu: online ? firstOnline(topology, cpu) : cpu,
      result: 'unset',
      stoppedNs: Number.NaN,
      arrivedNs: Number.NaN,
      releasedNs: Number.NaN,
      applyStartNs: Number.NaN,
      applyEndNs: Number.NaN,
      doneNs: Number.NaN,
    });
  }
  run.online = run.cpus.filter((t) => t.online);
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
  const { cpus, online, offline } = run;
  const T0 = port.now();
  run.lateCpusIn = online.length;
  const missing = stopCpus(o, run, T0);
  if (missing) {
    // multi_cpu_stop() has no timeout: every other CPU acknowledges its state and waits for this one.
    const reason = `stop_machine never completes: CPU ${missing.cpu} never reached stop_machine`;
    return {
      kind: 'hang',
      cpu: missing.cpu,
      reason,
      stuck: {
        where: 'multi_cpu_stop()',
        loop: 'do { ... } while (curstate != MULTI_STOP_EXIT): each state waits for every CPU to acknowledge it',
        reason: `CPU ${missing.cpu}'s stop_machine thread never runs, so no CPU passes the first state and none enters the microcode handler; no timeout applies and nothing is printed`,
        bound: 'none: the model knows at once that the CPU never gets there',
      },
    };
  }
  // If CPU 0 never arrives it never kicks anyone: the machine hangs in stop_machine below.
  const cpu0Proceeds =
    offline.length === 0 || !Number.isFinite(cpus[0]!.arrivedNs) || kickOfflineCpus(o, run);
  // A CPU 0 that gave up on the offline siblings skips the load and never joins the count.
  const counted = cpu0Proceeds ? online : online.filter((t) => t.cpu !== 0);

  if (waitForCpus(o, run, counted)) {
    loadPrimaries(o, counted);
    const panic = loadSecondaries(o, run, counted);
    if (panic) {
      port.runAt(panic.atNs);
      const message = `Microcode load: Primary CPU ${panic.primary} timed out`;
      log.printk('emerg', `Kernel panic - not syncing: ${message}`);
      // panic() ends with its end marker (the stack dump and notifiers in between are not modelled).
      log.printk('emerg', `---[ end Kernel panic - not syncing: ${message} ]---`);
      return { kind: 'panic', atNs: panic.atNs, primary: panic.primary, message };
    }
  } else {
    const stuck = online.find((t) => !Number.isFinite(t.arrivedNs));
    // stop_machine waits for every CPU to finish the handler: it never returns.
    if (stuck) {
      const reason = `stop_machine never completes: CPU ${stuck.cpu} never reached the rendezvous`;
      return {
        kind: 'hang',
        cpu: stuck.cpu,
        reason,
        stuck: {
          where: 'multi_cpu_stop()',
          loop: 'do { ... } while (curstate != MULTI_STOP_EXIT): the other CPUs left the handler and wait for the last acknowledgement',
          reason: `CPU ${stuck.cpu} passed stop_machine's barrier but never reached the microcode handler, so it never finishes its part; the others timed out in wait_for_cpus() and wait in stop_machine for it`,
          bound: 'none: the model knows at once that the CPU never gets there',
        },
      };
    }
  }

  releaseOfflineCpus(run);
  const startNs = -maxOf(online, (t) => -t.stoppedNs);
  const endNs = maxOf(online, (t) => t.doneNs);
  for (const t of online) tracer.span('stop_machine', 'stop_machine', t.cpu, t.stoppedNs, endNs);
  return { kind: 'released', window: { startNs, endNs } };
}

/**
 * stop_machine(): each CPU's stopper thread is woken in turn (late if the CPU
 * is held before it, stopMachineDelayNs). multi_cpu_stop() moves every CPU
 * through its states together: no CPU runs load_cpus_stopped() before the last
 * one has acknowledged, so the handler starts after the latest stopper. Each CPU
 * then raises an NMI to itself and reaches the handler (later if held there,
 * stallNs). Returns the CPU that never reaches stop_machine, if one does not.
 */
function stopCpus(o: RendezvousEnv, run: LateLoadRun, T0: number): CpuTimeline | undefined {
  const { cost, cpuAvailability } = o;
  let barrier = T0;
  let missing: CpuTimeline | undefined;
  run.online.forEach((t, k) => {
    t.stoppedNs = T0 + cost.stopMachineEntryNs + k * cost.stopMachineFanoutNs;
    const late = cpuAvailability.stopMachineDelayNs(t.cpu);
    if (!Number.isFinite(late)) {
      missing ??= t;
      return;
    }
    t.stoppedNs += late;
    barrier = Math.max(barrier, t.stoppedNs);
  });
  if (missing) {
    missing.stoppedNs = Number.NaN;
    return missing;
  }
  for (const t of run.online) t.arrivedNs = barrier + cpuAvailability.stallNs(t.cpu) + cost.nmiSelfIpiNs;
  return undefined;
}

/**
 * kick_offline_cpus(): CPU 0 sends each soft-offlined sibling an NMI and waits
 * up to 0.5 s (udelay(1) steps) for all of them to check in. Returns whether
 * they did; CPU 0's arrival at the rendezvous moves to the end of the wait.
 */
function kickOfflineCpus(o: RendezvousEnv, run: LateLoadRun): boolean {
  const { cost, cpuAvailability, tracer } = o;
  const { cpus, offline } = run;
  const cpu0 = cpus[0]!;
  const kickStart = cpu0.arrivedNs;
  let latest = kickStart;
  for (const cpu of offline) {
    const respond = kickStart + cost.nmiSelfIpiNs + cpuAvailability.stallNs(cpu);
    if (Number.isFinite(respond)) {
      cpus[cpu]!.result = 'offline';
      cpus[cpu]!.arrivedNs = respond;
      run.offlineInNmi++;
    }
    latest = Math.max(latest, respond);
  }
  const steps = Math.ceil((latest - kickStart) / US);
  const proceeded = steps < OFFLINE_KICK_STEPS;
  const endNs = kickStart + (proceeded ? steps : OFFLINE_KICK_STEPS) * US;
  if (proceeded) cpu0.arrivedNs = endNs;
  // Without its siblings CPU 0 skips the load; it is done when it stops waiting.
  else cpu0.doneNs = endNs;
  tracer.span('offline_kick', 'kick offline siblings', 0, kickStart, endNs, {
    offline: offline.length,
    proceeded,
  });
  return proceeded;
}

/** release_offline_cpus(): CPU 0 lets the offline siblings go at the end of its part. */
function releaseOfflineCpus(run: LateLoadRun): void {
  const { cpus } = run;
  for (const cpu of run.offline) {
    const t = cpus[cpu]!;
    if (t.result === 'offline') t.doneNs = Math.max(cpus[0]!.doneNs, t.arrivedNs);
  }
}

/**
 * wait_for_cpus(): everyone waits for the last arrival, for at most 1 s in
 * 1 us steps. Returns whether all were released; otherwise every CPU timed out
 * (one that gives up re-increments the counter, so nobody sees zero after it).
 */
function waitForCpus(o: RendezvousEnv, run: LateLoadRun, counted: CpuTimeline[]): boolean {
  const lastArrival =
    counted.length === run.online.length ? maxOf(counted, (t) => t.arrivedNs) : Number.POSITIVE_INFINITY;
  if (counted.some((t) => !(lastArrival - t.arrivedNs < RENDEZVOUS_STEPS * US))) {
    timeoutAll(o, run, counted);
    return false;
  }
  run.lateCpusIn -= counted.length;
  for (const t of counted) {
    t.releasedNs = t.arrivedNs + Math.ceil((lastArrival - t.arrivedNs) / US) * US;
    o.tracer.span('rendezvous', 'wait_for_cpus', t.cpu, t.arrivedNs, t.releasedNs);
  }
  return true;
}

/** __load_primary(): each core's control CPU applies, in parallel with the other cores. */
function loadPrimaries(o: RendezvousEnv, counted: CpuTimeline[]): void {
  for (const t of counted) if (t.ctrlCpu === t.cpu) apply(o, t, t.releasedNs);
}

/**
 * load_secondary(): a sibling waits (1 s at most) for its primary, then applies
 * if the primary updated or was current, else copies its result. The first
 * sibling to give up panics the machine: nothing that would start after that
 * moment happens. Returns that panic.
 */
function loadSecondaries(
  o: RendezvousEnv,
  run: LateLoadRun,
  counted: CpuTimeline[],
): { atNs: number; primary: number } | undefined {
  let panic: { atNs: number; primary: number } | undefined;
  const waits: { t: CpuTimeline; primary: CpuTimeline; start: number }[] = [];
  for (const t of counted) {
    if (t.ctrlCpu === t.cpu) continue;
    const primary = run.cpus[t.ctrlCpu]!;
    const steps = Math.ceil(Math.max(0, primary.doneNs - t.releasedNs) / US);
    if (steps >= SIBLING_STEPS) {
      const atNs = t.releasedNs + SIBLING_STEPS * US;
      if (!panic || atNs < panic.atNs) panic = { atNs, primary: t.ctrlCpu };
      continue;
    }
    waits.push({ t, primary, start: t.releasedNs + steps * US });
  }
  waits.sort((a, b) => a.start - b.start);
  for (const { t, primary, start } of waits) {
    // After panic() the machine is stopped: a sibling still waiting then never goes on.
    if (panic && start >= panic.atNs) continue;
    o.tracer.span('wait_primary', 'wait for primary', t.cpu, t.releasedNs, start);
    if (primary.result === 'updated' || primary.result === 'ok') apply(o, t, start);
    else {
      t.applyStartNs = t.applyEndNs = t.doneNs = start;
      t.result = primary.result;
    }
  }
  return panic;
}

function apply(o: RendezvousEnv, t: CpuTimeline, startNs: number): void {
  const { port, ops, tracer } = o;
  port.runAt(startNs);
  t.applyStartNs = startNs;
  t.result = ops.applyMicrocode(t.cpu);
  t.applyEndNs = t.doneNs = port.now();
  tracer.span('apply', `apply (${t.result})`, t.cpu, t.applyStartNs, t.applyEndNs, { result: t.result });
}

/**
 * Every counted CPU gives up after 1 s, in time order, each re-incrementing
 * late_cpus_in. `load: %d CPUs timed out` is pr_err_once() at two call sites,
 * __load_primary() and load_secondary(): the first primary and the first
 * secondary to give up each print it, with late_cpus_in - 1 at that moment.
 */
function timeoutAll(o: RendezvousEnv, run: LateLoadRun, counted: CpuTimeline[]): void {
  const { port, log, tracer } = o;
  const events: { t: number; delta: number; cpu?: CpuTimeline }[] = [];
  for (const t of counted) {
    if (!Number.isFinite(t.arrivedNs)) continue;
    events.push({ t: t.arrivedNs, delta: -1 });
    events.push({ t: t.arrivedNs + RENDEZVOUS_STEPS * US, delta: +1, cpu: t });
  }
  events.sort((a, b) => a.t - b.t || a.delta - b.delta);
  for (const e of events) {
    run.lateCpusIn += e.delta;
    const t = e.cpu;
    if (!t) continue;
    t.result = 'timeout';
    t.releasedNs = t.doneNs = e.t;
    tracer.span('rendezvous', 'wait_for_cpus (timed out)', t.cpu, t.arrivedNs, e.t);
    port.runAt(e.t);
    const site = t.ctrlCpu === t.cpu ? '__load_primary' : 'load_secondary';
    log.prErrOnce(`${site}.timeout`, `load: ${run.lateCpusIn - 1} CPUs timed out`);
  }
}

function firstOnline(topology: CoreTopology, cpu: number): number {
  const siblings = topology.coreSiblings(cpu);
  for (let i = 0; i < siblings.length; i++) if (topology.online(siblings[i]!)) return siblings[i]!;
  return cpu;
}

/** Math.max over a field without spreading (machines have tens of thousands of CPUs). */
function maxOf<T>(items: readonly T[], value: (item: T) => number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const item of items) {
    const v = value(item);
    if (v > m || Number.isNaN(v)) m = v;
  }
  return m;
}
