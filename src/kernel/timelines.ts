import type { UcodeState } from './ops.js';

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

/** CpuResult by its code in `CpuTimelines.result` (code 0 is the initial 'unset'). */
export const CPU_RESULTS = [
  'unset',
  'ok',
  'new',
  'new-safe',
  'updated',
  'not-found',
  'error',
  'timeout',
  'offline',
] as const satisfies readonly CpuResult[];

/** The code of a UcodeState in `CpuTimelines.result`: its place in CPU_RESULTS. */
export function resultCode(state: UcodeState): number {
  return CPU_RESULTS.indexOf(state);
}
export const RESULT_OK = resultCode('ok');
export const RESULT_UPDATED = resultCode('updated');
export const RESULT_TIMEOUT = resultCode('timeout');
export const RESULT_OFFLINE = resultCode('offline');

/**
 * Every present CPU's ucode_ctrl and timeline, one typed array a field, indexed
 * by CPU number: a machine has up to 65,536 CPUs, and an object per CPU (with a
 * boxed double per time) costs the garbage collector more than the load itself.
 * `count` CPUs (0 .. count - 1) are recorded: setup_cpus() may stop early.
 */
export class CpuTimelines {
  count = 0;
  readonly online: Uint8Array;
  readonly primary: Uint8Array;
  readonly ctrlCpu: Int32Array;
  /** A code of CPU_RESULTS. */
  readonly result: Uint8Array;
  readonly stoppedNs: Float64Array;
  readonly arrivedNs: Float64Array;
  readonly releasedNs: Float64Array;
  readonly applyStartNs: Float64Array;
  readonly applyEndNs: Float64Array;
  readonly doneNs: Float64Array;

  constructor(readonly capacity: number) {
    this.online = new Uint8Array(capacity);
    this.primary = new Uint8Array(capacity);
    this.ctrlCpu = new Int32Array(capacity);
    this.result = new Uint8Array(capacity);
    this.stoppedNs = new Float64Array(capacity).fill(Number.NaN);
    this.arrivedNs = new Float64Array(capacity).fill(Number.NaN);
    this.releasedNs = new Float64Array(capacity).fill(Number.NaN);
    this.applyStartNs = new Float64Array(capacity).fill(Number.NaN);
    this.applyEndNs = new Float64Array(capacity).fill(Number.NaN);
    this.doneNs = new Float64Array(capacity).fill(Number.NaN);
  }

  resultOf(cpu: number): CpuResult {
    return CPU_RESULTS[this.result[cpu]!]!;
  }

  /** The recorded CPUs as objects (a snapshot, for tests and callers that want objects). */
  asObjects(): CpuTimeline[] {
    const out: CpuTimeline[] = [];
    for (let cpu = 0; cpu < this.count; cpu++) {
      out.push({
        cpu,
        online: this.online[cpu] === 1,
        primary: this.primary[cpu] === 1,
        ctrlCpu: this.ctrlCpu[cpu]!,
        result: this.resultOf(cpu),
        stoppedNs: this.stoppedNs[cpu]!,
        arrivedNs: this.arrivedNs[cpu]!,
        releasedNs: this.releasedNs[cpu]!,
        applyStartNs: this.applyStartNs[cpu]!,
        applyEndNs: this.applyEndNs[cpu]!,
        doneNs: this.doneNs[cpu]!,
      });
    }
    return out;
  }
}
