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
 * the hot path monomorphic when every mapped device is a mailbox.
 */
export class MmioBus {
  /** Set to record every access (for mmiotrace); off on the fast path. */
  recorder: MmioTraceRecorder | undefined;

  private readonly ranges: Range[] = [];
  private readonly slotDevice: (MmioDevice | undefined)[] = new Array(MAX_SLOTS).fill(undefined);
  private readonly slotDeviceOffset = new Float64Array(MAX_SLOTS);
  private readonly slotPhys = new Float64Array(MAX_SLOTS);
  private readonly slotLimit = new Uint32Array(MAX_SLOTS);
  private nextSlot = 1;
  private readonly writeNs: number;
  private readonly readNs: number;

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
  }

  readl(va: number): number {
    const slot = va >>> PAGE_SHIFT;
    const device = this.slotDevice[slot];
    const off = va & PAGE_MASK;
    if (device === undefined || off >= this.slotLimit[slot]!) throw this.fault('read', va);
    this.clock.now += this.readNs;
    const value = device.read32(this.slotDeviceOffset[slot]! + off) >>> 0;
    if (this.recorder !== undefined)
      this.recorder.record(MMIO_READ, this.clock.now, this.slotPhys[slot]! + off, value, slot);
    return value;
  }

  writel(value: number, va: number): void {
    const slot = va >>> PAGE_SHIFT;
    const device = this.slotDevice[slot];
    const off = va & PAGE_MASK;
    if (device === undefined || off >= this.slotLimit[slot]!) throw this.fault('write', va);
    this.clock.now += this.writeNs;
    if (this.recorder !== undefined)
      this.recorder.record(MMIO_WRITE, this.clock.now, this.slotPhys[slot]! + off, value >>> 0, slot);
    device.write32(this.slotDeviceOffset[slot]! + off, value >>> 0);
  }

  private fault(what: string, va: number): BusFault {
    return new BusFault(`MMIO ${what} through unmapped address 0x${va.toString(16)}`);
  }
}
