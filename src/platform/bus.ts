import type { VirtualClock } from '../time/clock.js';
import type { CostModel } from '../time/cost-model.js';
import { MMIO_MAP, MMIO_READ, MMIO_UNMAP, MMIO_WRITE, type MmioTraceRecorder } from './mmio-trace.js';

/** A device on the MMIO bus sees only register offsets and 32-bit values. */
export interface MmioDevice {
  read32(offset: number): number;
  write32(offset: number, value: number): void;
}

/** Raised for an access the real machine would oops or machine-check on. */
export class BusFault extends Error {
  override name = 'BusFault';
}

const PAGE_SHIFT = 12;
const PAGE_MASK = 0xfff;
/** Highest number of live mappings; a mapping is one slot of the dispatch table. */
const MAX_SLOTS = 4096;
/** Slots allocated with a bus; the tables double as ioremap() needs more (a run maps one per package). */
const INITIAL_SLOTS = 16;

interface Range {
  base: number;
  size: number;
  device: MmioDevice;
}

/**
 * Physical MMIO ranges and the host's ioremap() mappings of them.
 *
 * A mapping's "virtual address" is `slot << 12 | offset`, so an access is one
 * array load to find the device plus one add for the register offset (the v86
 * bus idea). The slot arrays only ever hold MmioDevice instances, which keeps
 * the hot path monomorphic when every mapped device is a mailbox. Consecutive
 * accesses through the same mapping skip even that lookup (`hotSlot`).
 */
export class MmioBus {
  /** Set to record every access (for mmiotrace); off on the fast path. */
  recorder: MmioTraceRecorder | undefined;

  private readonly ranges: Range[] = [];
  /** Slot 0 is never a mapping (0 is ioremap()'s failure value); slots are appended in order. */
  private readonly slotDevice: (MmioDevice | undefined)[] = [undefined];
  private slotDeviceOffset = new Float64Array(INITIAL_SLOTS);
  private slotPhys = new Float64Array(INITIAL_SLOTS);
  private slotLimit = new Uint32Array(INITIAL_SLOTS);
  private nextSlot = 1;
  // Numeric fields get an initializer: a declared-only field starts as `undefined`
  // (class-field semantics), and V8 then keeps it in a generic tagged slot.
  private readonly writeNs: number = 0;
  private readonly readNs: number = 0;

  /**
   * The mapping the last access went through, copied into plain fields: the
   * driver streams thousands of dwords through one mapping, and a hit costs a
   * compare instead of an array and three typed-array loads. Only ever a copy
   * of the slot arrays for a live slot (reset by iounmap), so it never changes
   * what an access does.
   */
  private hotSlot = -1;
  private hotDevice: MmioDevice | undefined = undefined;
  private hotDeviceOffset = 0;
  private hotLimit = 0;

  constructor(
    private readonly clock: VirtualClock,
    cost: Pick<CostModel, 'mmioReadNs' | 'mmioWriteNs'>,
  ) {
    this.writeNs = cost.mmioWriteNs;
    this.readNs = cost.mmioReadNs;
  }

  attach(base: number, size: number, device: MmioDevice): void {
    for (const r of this.ranges) {
      if (base < r.base + r.size && r.base < base + size) {
        throw new RangeError(`MMIO range 0x${base.toString(16)} overlaps 0x${r.base.toString(16)}`);
      }
    }
    this.ranges.push({ base, size, device });
  }

  /** ioremap(): 0 when no device decodes the whole range, as the driver's failure value. */
  ioremap(pa: number, size: number): number {
    const range = this.ranges.find((r) => pa >= r.base && pa + size <= r.base + r.size);
    if (!range || size > PAGE_MASK + 1 || this.nextSlot >= MAX_SLOTS) return 0;
    const slot = this.nextSlot++;
    if (slot === this.slotLimit.length) this.growSlots();
    this.slotDevice[slot] = range.device;
    this.slotDeviceOffset[slot] = pa - range.base;
    this.slotPhys[slot] = pa;
    this.slotLimit[slot] = size;
    this.recorder?.record(MMIO_MAP, this.clock.now, pa, size, slot);
    return slot << PAGE_SHIFT;
  }

  iounmap(va: number): void {
    const slot = va >>> PAGE_SHIFT;
    if (this.slotDevice[slot] === undefined)
      throw new BusFault(`iounmap of unmapped address 0x${va.toString(16)}`);
    this.recorder?.record(MMIO_UNMAP, this.clock.now, this.slotPhys[slot]!, 0, slot);
    this.slotDevice[slot] = undefined;
    if (slot === this.hotSlot) {
      this.hotSlot = -1;
      this.hotDevice = undefined;
    }
  }

  readl(va: number): number {
    const slot = va >>> PAGE_SHIFT;
    const off = va & PAGE_MASK;
    if (slot !== this.hotSlot || off >= this.hotLimit) this.select(slot, off, va, 'read');
    this.clock.now += this.readNs;
    const value = this.hotDevice!.read32(this.hotDeviceOffset + off) >>> 0;
    if (this.recorder !== undefined)
      this.recorder.record(MMIO_READ, this.clock.now, this.slotPhys[slot]! + off, value, slot);
    return value;
  }

  writel(value: number, va: number): void {
    const slot = va >>> PAGE_SHIFT;
    const off = va & PAGE_MASK;
    if (slot !== this.hotSlot || off >= this.hotLimit) this.select(slot, off, va, 'write');
    this.clock.now += this.writeNs;
    if (this.recorder !== undefined)
      this.recorder.record(MMIO_WRITE, this.clock.now, this.slotPhys[slot]! + off, value >>> 0, slot);
    this.hotDevice!.write32(this.hotDeviceOffset + off, value >>> 0);
  }

  /** Slow path of an access: check the mapping and make it the hot one, or fault. */
  private select(slot: number, off: number, va: number, what: 'read' | 'write'): void {
    const device = this.slotDevice[slot];
    if (device === undefined || off >= this.slotLimit[slot]!) throw this.fault(what, va);
    this.hotSlot = slot;
    this.hotDevice = device;
    this.hotDeviceOffset = this.slotDeviceOffset[slot]!;
    this.hotLimit = this.slotLimit[slot]!;
  }

  private growSlots(): void {
    const n = Math.min(MAX_SLOTS, this.slotLimit.length * 2);
    const offset = new Float64Array(n);
    offset.set(this.slotDeviceOffset);
    this.slotDeviceOffset = offset;
    const phys = new Float64Array(n);
    phys.set(this.slotPhys);
    this.slotPhys = phys;
    const limit = new Uint32Array(n);
    limit.set(this.slotLimit);
    this.slotLimit = limit;
  }

  private fault(what: string, va: number): BusFault {
    return new BusFault(`MMIO ${what} through unmapped address 0x${va.toString(16)}`);
  }
}
