/** Access kinds stored in an MmioTraceRecorder. */
export const MMIO_READ = 0;
export const MMIO_WRITE = 1;
export const MMIO_MAP = 2;
export const MMIO_UNMAP = 3;

export interface MmioTraceEntry {
  kind: 'R' | 'W' | 'MAP' | 'UNMAP';
  timeNs: number;
  /** Physical address of the access (of the mapping for MAP/UNMAP). */
  pa: number;
  /** Value read or written; mapping length for MAP. */
  value: number;
  /** The ioremap() mapping the access went through. */
  mapId: number;
}

/**
 * Column store of MMIO accesses. Typed arrays that double when full keep
 * recording to a few stores per access, with no per-access objects.
 */
export class MmioTraceRecorder {
  length = 0;
  private kind = new Uint8Array(1024);
  private time = new Float64Array(1024);
  private pa = new Float64Array(1024);
  private value = new Uint32Array(1024);
  private map = new Uint32Array(1024);

  record(kind: number, timeNs: number, pa: number, value: number, mapId: number): void {
    const i = this.length;
    if (i === this.kind.length) this.grow();
    this.kind[i] = kind;
    this.time[i] = timeNs;
    this.pa[i] = pa;
    this.value[i] = value;
    this.map[i] = mapId;
    this.length = i + 1;
  }

  entry(i: number): MmioTraceEntry {
    const k = this.kind[i];
    return {
      kind: k === MMIO_READ ? 'R' : k === MMIO_WRITE ? 'W' : k === MMIO_MAP ? 'MAP' : 'UNMAP',
      timeNs: this.time[i]!,
      pa: this.pa[i]!,
      value: this.value[i]!,
      mapId: this.map[i]!,
    };
  }

  *entries(): IterableIterator<MmioTraceEntry> {
    for (let i = 0; i < this.length; i++) yield this.entry(i);
  }

  private grow(): void {
    const n = this.kind.length * 2;
    const kind = new Uint8Array(n);
    kind.set(this.kind);
    this.kind = kind;
    const time = new Float64Array(n);
    time.set(this.time);
    this.time = time;
    const pa = new Float64Array(n);
    pa.set(this.pa);
    this.pa = pa;
    const value = new Uint32Array(n);
    value.set(this.value);
    this.value = value;
    const map = new Uint32Array(n);
    map.set(this.map);
    this.map = map;
  }
}
