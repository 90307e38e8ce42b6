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
export const CPU_RESULTS: readonly CpuResult[] = [
  'unset',
  'ok',
  'new',
  'new-safe',
  'updated',
  'not-found',
  'error',
  'timeout',
  'offline',
];
export const RESULT_UNSET = 0;
export const RESULT_OK = 1;
export const RESULT_UPDATED = 4;
export const RESULT_TIMEOUT = 7;
export const RESULT_OFFLINE = 8;

/** The code of a UcodeState in `CpuTimelines.result`. */
export function resultCode(state: UcodeState): number {
  switch (state) {
    case 'ok':
      return RESULT_OK;
    case 'new':
      return 2;
    case 'new-safe':
      return 3;
    case 'updated':
      return RESULT_UPDATED;
    case 'not-found':
      return 5;
    case 'error':
      return 6;
    case 'timeout':
      return RESULT_TIMEOUT;
    case 'offline':
      return RESULT_OFFLINE;
  }
}

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
  private views: CpuTimeline[] | undefined;

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

  /** The recorded CPUs as objects, live over the arrays (for tests and callers that want objects). */
  asObjects(): CpuTimeline[] {
    if (this.views === undefined || this.views.length !== this.count) {
      this.views = [];
      for (let cpu = 0; cpu < this.count; cpu++) this.views.push(new CpuTimelineView(this, cpu));
    }
    return this.views;
  }
}

class CpuTimelineView implements CpuTimeline {
  constructor(
    private readonly s: CpuTimelines,
    readonly cpu: number,
  ) {}
  get online(): boolean {
    return this.s.online[this.cpu] === 1;
  }
  set online(v: boolean) {
    this.s.online[this.cpu] = v ? 1 : 0;
  }
  get primary(): boolean {
    return this.s.primary[this.cpu] === 1;
  }
  set primary(v: boolean) {
    this.s.primary[this.cpu] = v ? 1 : 0;
  }
  get ctrlCpu(): number {
    return this.s.ctrlCpu[this.cpu]!;
  }
  set ctrlCpu(v: number) {
    this.s.ctrlCpu[this.cpu] = v;
  }
  get result(): CpuResult {
    return this.s.resultOf(this.cpu);
  }
  set result(v: CpuResult) {
    this.s.result[this.cpu] = v === 'unset' ? RESULT_UNSET : resultCode(v);
  }
  get stoppedNs(): number {
    return this.s.stoppedNs[this.cpu]!;
  }
  set stoppedNs(v: number) {
    this.s.stoppedNs[this.cpu] = v;
  }
  get arrivedNs(): number {
    return this.s.arrivedNs[this.cpu]!;
  }
  set arrivedNs(v: number) {
    this.s.arrivedNs[this.cpu] = v;
  }
  get releasedNs(): number {
    return this.s.releasedNs[this.cpu]!;
  }
  set releasedNs(v: number) {
    this.s.releasedNs[this.cpu] = v;
  }
  get applyStartNs(): number {
    return this.s.applyStartNs[this.cpu]!;
  }
  set applyStartNs(v: number) {
    this.s.applyStartNs[this.cpu] = v;
  }
  get applyEndNs(): number {
    return this.s.applyEndNs[this.cpu]!;
  }
  set applyEndNs(v: number) {
    this.s.applyEndNs[this.cpu] = v;
  }
  get doneNs(): number {
    return this.s.doneNs[this.cpu]!;
  }
  set doneNs(v: number) {
    this.s.doneNs[this.cpu] = v;
  }
}
