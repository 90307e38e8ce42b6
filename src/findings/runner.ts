import type { SimulationResult } from '../sim/result-types.js';
import { argsFromSimulateOptions, commandLine } from '../sim/run-args.js';
import { type SimulateOptions, simulate } from '../sim/simulate.js';
import { REALISTIC_IMAGE_BYTES } from '../sim/synthetic.js';

/** One measured run: the command anyone can rerun, and what the model gave. */
export interface Measured {
  command: string;
  r: SimulationResult;
}

/**
 * Runs simulate() for the findings, each distinct command once (several
 * findings read the same run). Every run uses the synthetic image of Intel's
 * largest public blob unless it says otherwise, so the commands give the same
 * numbers on a host with firmware installed.
 */
export class Runner {
  private readonly memo = new Map<string, SimulationResult>();
  /** Simulations actually run (the rest came from the memo). */
  simulations = 0;

  /** `machineFile`: where a machine object's file is, for the command. */
  run(opts: SimulateOptions, machineFile?: string): Measured {
    const full: SimulateOptions = { syntheticImageBytes: REALISTIC_IMAGE_BYTES, ...opts };
    const refs = machineFile === undefined ? {} : { machine: machineFile };
    const command = commandLine(['simulate', ...argsFromSimulateOptions(full, refs)]);
    let r = this.memo.get(command);
    if (!r) {
      r = simulate({ ...full, trace: false });
      this.simulations++;
      this.memo.set(command, r);
    }
    return { command, r };
  }
}

/** The CPU hotplug lock is held from reload_store()'s cpus_read_lock() to its unlock: the whole write. */
export function lockHeldNs(r: SimulationResult): number {
  return r.writeReturn === null ? Number.POSITIVE_INFINITY : r.reload.durationNs;
}

/** Distinct packages a run staged. */
export function stagedPackages(r: SimulationResult): number {
  return new Set(r.staging.packages.map((p) => p.pkg)).size;
}
