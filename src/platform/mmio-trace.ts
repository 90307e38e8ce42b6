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

/** Entries per page of the column store (a page is about 400 KB). */
const PAGE_SHIFT = 14;
const PAGE_ENTRIES = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_ENTRIES - 1;

/**
 * Column store of MMIO accesses: typed-array columns in fixed pages, so
 * recording is a few stores per access with no per-access objects, and a full
 * page is followed by a new one instead of copying everything recorded so far
 * (a staging run records ~420,000 accesses per package).
 */
export class MmioTraceRecorder {
  length = 0;
  // The page being filled and the next free index in it.
  private fill = 0;
  private kind = new Uint8Array(PAGE_ENTRIES);
  private time = new Float64Array(PAGE_ENTRIES);
  private pa = new Float64Array(PAGE_ENTRIES);
  private value = new Uint32Array(PAGE_ENTRIES);
  private map = new Uint32Array(PAGE_ENTRIES);
  private readonly kinds: Uint8Array[] = [this.kind];
  private readonly times: Float64Array[] = [this.time];
  private readonly pas: Float64Array[] = [this.pa];
  private readonly values: Uint32Array[] = [this.value];
  private readonly maps: Uint32Array[] = [this.map];

  record(kind: number, timeNs: number, pa: number, value: number, mapId: number): void {
    let j = this.fill;
    if (j === PAGE_ENTRIES) {
      this.addPage();
      j = 0;
    }
    this.kind[j] = kind;
    this.time[j] = timeNs;
    this.pa[j] = pa;
    this.value[j] = value;
    this.map[j] = mapId;
    this.fill = j + 1;
    this.length++;
  }

  /** The i-th access, 0 <= i < length. */
  entry(i: number): MmioTraceEntry {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`mmio trace entry ${i} of ${this.length}`);
    const p = i >>> PAGE_SHIFT;
    const j = i & PAGE_MASK;
    const k = this.kinds[p]![j];
    return {
      kind: k === MMIO_READ ? 'R' : k === MMIO_WRITE ? 'W' : k === MMIO_MAP ? 'MAP' : 'UNMAP',
      timeNs: this.times[p]![j]!,
      pa: this.pas[p]![j]!,
      value: this.values[p]![j]!,
      mapId: this.maps[p]![j]!,
    };
  }

  *entries(): IterableIterator<MmioTraceEntry> {
    for (let i = 0; i < this.length; i++) yield this.entry(i);
  }

  private addPage(): void {
    this.kind = new Uint8Array(PAGE_ENTRIES);
    this.time = new Float64Array(PAGE_ENTRIES);
    this.pa = new Float64Array(PAGE_ENTRIES);
    this.value = new Uint32Array(PAGE_ENTRIES);
    this.map = new Uint32Array(PAGE_ENTRIES);
    this.kinds.push(this.kind);
    this.times.push(this.time);
    this.pas.push(this.pa);
    this.values.push(this.value);
    this.maps.push(this.map);
    this.fill = 0;
  }
}
