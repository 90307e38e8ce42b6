import type { CpuAvailability, HostPort } from '../platform/host-port.js';
import type { CostModel } from '../time/cost-model.js';
import { EBADFD, EBUSY, EIO, ENOENT, EOPNOTSUPP } from './errno.js';
import type { MicrocodeOps, StagingOutcome, UcodeState } from './ops.js';
import type { Policy } from './policy.js';
import { hex, hex08, type KernelLog } from './printk.js';
import type { Tracer } from './trace.js';

const US = 1_000;
/** wait_for_cpus()/wait_for_ctrl(): USEC_PER_SEC iterations of a 1 us delay. */
const RENDEZVOUS_STEPS = 1_000_000;
/** kick_offline_cpus(): USEC_PER_SEC / 2 iterations of udelay(1). */
const OFFLINE_KICK_STEPS = 500_000;

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
  | 'hang';

export interface LateLoadReport {
  outcome: LoadOutcome;
  /** What the write to /sys/devices/system/cpu/microcode/reload returns: 0 or -errno. */
  returnCode: number;
  safe: boolean;
  tainted: boolean;
  oldRevision: number;
  newRevision: number;
  counts: { updated: number; siblings: number; failed: number; timedOut: number; offline: number };
  staging: StagingOutcome | undefined;
  stopWindow: { startNs: number; endNs: number } | undefined;
  cpus: CpuTimeline[];
  startNs: number;
  endNs: number;
  panicMessage?: string;
  /** Why the machine never came back from stop_machine (the kernel prints nothing: it is stuck). */
  hangReason?: string;
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
    const { port, ops, log, topology } = this.o;
    const startNs = port.now();
    const n = topology.cpus;
    const cpus: CpuTimeline[] = [];
    const offline: number[] = [];
    const report: LateLoadReport = {
      outcome: 'failed',
      returnCode: 0,
      safe: false,
      tainted: false,
      oldRevision: ops.bootRevision,
      newRevision: ops.bootRevision,
      counts: { updated: 0, siblings: 0, failed: 0, timedOut: 0, offline: 0 },
      staging: undefined,
      stopWindow: undefined,
      cpus,
      startNs,
      endNs: startNs,
    };
    const done = (outcome: LoadOutcome, returnCode: number): LateLoadReport => {
      report.outcome = outcome;
      report.returnCode = returnCode;
      report.endNs = port.now();
      this.o.tracer.span('reload', 'reload', 0, startNs, report.endNs, { returnCode });
      return report;
    };

    // setup_cpus(): every primary thread must be online; offline SMT siblings
    // can be reached by NMI and are handled by CPU 0.
    const allowSmtOffline = ops.nmiSafe || ops.useNmi;
    for (let cpu = 0; cpu < n; cpu++) {
      const online = topology.online(cpu);
      const primary = topology.isPrimary(cpu);
      if (!online) {
        if (primary || !allowSmtOffline) {
          log.prErr(`CPU ${cpu} not online, loading aborted`);
          return done('busy', -EBUSY);
        }
        offline.push(cpu);
      }
      cpus.push({
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

    switch (ops.requestMicrocodeFw(0)) {
      case 'new':
        return this.loadLateStopCpus(false, report, offline, done);
      case 'new-safe':
        return this.loadLateStopCpus(true, report, offline, done);
      case 'not-found':
        return done('not-found', -ENOENT);
      default:
        return done('bad-firmware', -EBADFD);
    }
  }

  private loadLateStopCpus(
    isSafe: boolean,
    report: LateLoadReport,
    offline: number[],
    done: (o: LoadOutcome, rc: number) => LateLoadReport,
  ): LateLoadReport {
    const { port, ops, log, policy } = this.o;
    report.safe = isSafe;
    if (!isSafe) {
      log.prErr('Late microcode loading without minimal revision check.');
      log.prErr('You should switch to early loading, if possible.');
    }

    // Staging is preemptible and needs no stopped CPUs; if it fails the load goes on unstaged.
    if (ops.useStaging) report.staging = ops.stageMicrocode();
    if (policy.staging === 'require' && !report.staging?.ok) {
      const err = report.staging?.errno || -EOPNOTSUPP;
      log.prErr(
        `Staging required but ${report.staging ? `failed (${err})` : 'not available'}: late load aborted.`,
      );
      ops.finalizeLateLoad(true);
      return done('aborted', err);
    }

    const window = this.rendezvous(report, offline);
    if (report.outcome === 'panic' || report.outcome === 'hang') {
      report.endNs = port.now();
      return report;
    }
    report.stopWindow = window;
    port.runAt(window.endNs);

    // Analyze the results over every present CPU.
    const c = report.counts;
    for (const t of report.cpus) {
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
    const onlineCount = report.cpus.filter((t) => t.online).length;

    if (c.updated === 0) {
      if (c.failed === 0 && c.timedOut === 0) return done('no-change', 0);
      if (c.offline < offline.length) {
        const responded = report.cpus.filter((t) => !t.online && t.result === 'offline').length;
        log.prWarn(`${offline.length - responded} offline siblings did not respond.`);
        return done('failed', -EIO);
      }
      log.prErr(`update failed: ${c.failed} CPUs failed ${c.timedOut} CPUs timed out`);
      return done('failed', -EIO);
    }
    report.tainted = !isSafe || c.failed > 0 || c.timedOut > 0;
    log.prInfo(`load: updated on ${c.updated} primary CPUs with ${c.siblings} siblings`);
    if (c.failed || c.timedOut) {
      log.prErr(`load incomplete. ${onlineCount - (c.updated + c.siblings)} CPUs timed out or failed`);
    }
    report.newRevision = ops.bootRevision;
    log.prInfo(`revision: ${hex(report.oldRevision)} -> ${hex(report.newRevision)}`);
    const rc = c.updated + c.siblings === onlineCount ? 0 : -EIO;
    return done(rc === 0 ? 'updated' : 'partial', rc);
  }

  /**
   * stop_machine() on every online CPU, each entering the microcode NMI handler.
   * Returns the stop window; sets report.outcome to 'panic' or 'hang' when the
   * machine would not come back.
   */
  private rendezvous(report: LateLoadReport, offline: number[]): { startNs: number; endNs: number } {
    const { port, log, tracer } = this.o;
    const cpus = report.cpus;
    const T0 = port.now();
    const online = cpus.filter((t) => t.online);
    this.stopCpus(online, T0);
    // If CPU 0 never arrives it never kicks anyone: the machine hangs in stop_machine below.
    const cpu0Proceeds =
      offline.length === 0 || !Number.isFinite(cpus[0]!.arrivedNs) || this.kickOfflineCpus(cpus, offline);
    // A CPU 0 that gave up on the offline siblings skips the load and never joins the count.
    const counted = cpu0Proceeds ? online : online.filter((t) => t.cpu !== 0);

    if (this.waitForCpus(counted, online.length, report)) {
      this.loadPrimaries(counted);
      const panic = this.loadSecondaries(counted, cpus);
      if (panic) {
        port.runAt(panic.atNs);
        const msg = `Microcode load: Primary CPU ${panic.primary} timed out`;
        log.printk('emerg', `Kernel panic - not syncing: ${msg}`);
        report.outcome = 'panic';
        report.panicMessage = msg;
        return { startNs: T0, endNs: panic.atNs };
      }
    } else {
      const stuck = online.find((t) => !Number.isFinite(t.arrivedNs));
      if (stuck) {
        // stop_machine waits for every CPU to finish the handler: it never returns.
        report.outcome = 'hang';
        report.hangReason = `stop_machine never completes: CPU ${stuck.cpu} never reached the rendezvous`;
        return { startNs: T0, endNs: Number.POSITIVE_INFINITY };
      }
    }

    // CPU 0 releases the offline siblings at the end of its part.
    for (const cpu of offline) {
      const t = cpus[cpu]!;
      if (t.result === 'offline') t.doneNs = Math.max(cpus[0]!.doneNs, t.arrivedNs);
    }
    const startNs = -maxOf(online, (t) => -t.stoppedNs);
    const endNs = maxOf(online, (t) => t.doneNs);
    for (const t of online) tracer.span('stop_machine', 'stop_machine', t.cpu, t.stoppedNs, endNs);
    return { startNs, endNs };
  }

  /** Each CPU's stopper thread is woken in turn, then the CPU raises an NMI to itself. */
  private stopCpus(online: CpuTimeline[], T0: number): void {
    const { cost, cpuAvailability } = this.o;
    online.forEach((t, k) => {
      t.stoppedNs = T0 + cost.stopMachineEntryNs + k * cost.stopMachineFanoutNs;
      t.arrivedNs = t.stoppedNs + cpuAvailability.stallNs(t.cpu) + cost.nmiSelfIpiNs;
    });
  }

  /**
   * kick_offline_cpus(): CPU 0 sends each soft-offlined sibling an NMI and waits
   * up to 0.5 s (udelay(1) steps) for all of them to check in. Returns whether
   * they did; CPU 0's arrival at the rendezvous moves to the end of the wait.
   */
  private kickOfflineCpus(cpus: CpuTimeline[], offline: number[]): boolean {
    const { cost, cpuAvailability, tracer } = this.o;
    const cpu0 = cpus[0]!;
    const kickStart = cpu0.arrivedNs;
    let latest = kickStart;
    for (const cpu of offline) {
      const respond = kickStart + cost.nmiSelfIpiNs + cpuAvailability.stallNs(cpu);
      if (Number.isFinite(respond)) {
        cpus[cpu]!.result = 'offline';
        cpus[cpu]!.arrivedNs = respond;
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

  /**
   * wait_for_cpus(): everyone waits for the last arrival, for at most 1 s in
   * 1 us steps. Returns whether all were released; otherwise every CPU timed out
   * (one that gives up re-increments the counter, so nobody sees zero after it).
   */
  private waitForCpus(counted: CpuTimeline[], onlineCount: number, report: LateLoadReport): boolean {
    const lastArrival =
      counted.length === onlineCount ? maxOf(counted, (t) => t.arrivedNs) : Number.POSITIVE_INFINITY;
    if (counted.some((t) => !(lastArrival - t.arrivedNs < RENDEZVOUS_STEPS * US))) {
      this.timeoutAll(counted, report);
      return false;
    }
    for (const t of counted) {
      t.releasedNs = t.arrivedNs + Math.ceil((lastArrival - t.arrivedNs) / US) * US;
      this.o.tracer.span('rendezvous', 'wait_for_cpus', t.cpu, t.arrivedNs, t.releasedNs);
    }
    return true;
  }

  /** __load_primary(): each core's control CPU applies, in parallel with the other cores. */
  private loadPrimaries(counted: CpuTimeline[]): void {
    for (const t of counted) if (t.ctrlCpu === t.cpu) this.apply(t, t.releasedNs);
  }

  /**
   * load_secondary(): a sibling waits (1 s at most) for its primary, then applies
   * if the primary updated or was current, else copies its result. Returns the
   * first sibling timeout, which panics the machine.
   */
  private loadSecondaries(
    counted: CpuTimeline[],
    cpus: CpuTimeline[],
  ): { atNs: number; primary: number } | undefined {
    let panic: { atNs: number; primary: number } | undefined;
    const secondaries = counted
      .filter((t) => t.ctrlCpu !== t.cpu)
      .sort((a, b) => a.releasedNs - b.releasedNs);
    for (const t of secondaries) {
      const primary = cpus[t.ctrlCpu]!;
      const steps = Math.ceil(Math.max(0, primary.doneNs - t.releasedNs) / US);
      if (steps >= RENDEZVOUS_STEPS) {
        const atNs = t.releasedNs + RENDEZVOUS_STEPS * US;
        if (!panic || atNs < panic.atNs) panic = { atNs, primary: t.ctrlCpu };
        continue;
      }
      const start = t.releasedNs + steps * US;
      this.o.tracer.span('wait_primary', 'wait for primary', t.cpu, t.releasedNs, start);
      if (primary.result === 'updated' || primary.result === 'ok') this.apply(t, start);
      else {
        t.applyStartNs = t.applyEndNs = t.doneNs = start;
        t.result = primary.result;
      }
    }
    return panic;
  }

  private apply(t: CpuTimeline, startNs: number): void {
    const { port, ops, tracer } = this.o;
    port.runAt(startNs);
    t.applyStartNs = startNs;
    t.result = ops.applyMicrocode(t.cpu);
    t.applyEndNs = t.doneNs = port.now();
    tracer.span('apply', `apply (${t.result})`, t.cpu, t.applyStartNs, t.applyEndNs, { result: t.result });
  }

  /** Every counted CPU gives up after 1 s; the first primary to do so prints how many are missing. */
  private timeoutAll(counted: CpuTimeline[], report: LateLoadReport): void {
    const { port, log, tracer } = this.o;
    const online = report.cpus.filter((t) => t.online).length;
    const events: { t: number; delta: number; cpu?: CpuTimeline }[] = [];
    for (const t of counted) {
      if (!Number.isFinite(t.arrivedNs)) continue;
      events.push({ t: t.arrivedNs, delta: -1 });
      events.push({ t: t.arrivedNs + RENDEZVOUS_STEPS * US, delta: +1, cpu: t });
    }
    events.sort((a, b) => a.t - b.t || a.delta - b.delta);
    let counter = online;
    let printed = false;
    for (const e of events) {
      counter += e.delta;
      const t = e.cpu;
      if (!t) continue;
      t.result = 'timeout';
      t.releasedNs = t.doneNs = e.t;
      tracer.span('rendezvous', 'wait_for_cpus (timed out)', t.cpu, t.arrivedNs, e.t);
      if (!printed && t.ctrlCpu === t.cpu) {
        printed = true;
        port.runAt(e.t);
        log.prErr(`load: ${counter - 1} CPUs timed out`);
      }
    }
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
