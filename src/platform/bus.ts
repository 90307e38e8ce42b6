import type { VirtualClock } from '../time/clock.js';
import type { CostModel } from '../time/cost-model.js';
import { MMIO_MAP, MMIO_READ, MMIO_UNMAP, MMIO_WRITE, type MmioTraceRecorder } from './mmio-trace.js';

/** A device on the MMIO bus sees only register offsets and 32-bit values. */
export interface MmioDevice {
  read32(offset: number): number;
  write32(offset: number, value: number): void;
  /**
   * The block path of `count` write32(offset, src[from + i]) calls in order
   * (iowrite32_rep()): the device takes the leading dwords it can take with
   * exactly the effect those calls would have, and returns how many (0 to
   * count). It stops before any dword whose write would do more than store it
   * (a refusal, a misuse report, a register with side effects), and it never
   * looks at the clock: the bus charges the time of the dwords taken and
   * writes the rest one at a time.
   */
  writeBlock(offset: number, src: Uint32Array, from: number, count: number): number;
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

/** Memory that is not System RAM (firmware-reserved): ioremap() maps it and accesses reach the dwords. */
interface ReservedRam {
  base: number;
  words: Uint32Array;
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
  private readonly reserved: ReservedRam[] = [];
  /** What a read from an address no device decodes returns (writes there are dropped). */
  private undecodedValue = 0xffff_ffff;
  /** Slot 0 is never a mapping (0 is ioremap()'s failure value); slots are appended in order. */
  private readonly slotDevice: (MmioDevice | undefined)[] = [undefined];
  /**
   * Mappings no device decodes: undefined = a device slot; null = nothing
   * answers; a Uint32Array = reserved memory (the slot's offset indexes it). Kept
   * apart from slotDevice so the dword path only ever sees devices.
   */
  private readonly slotBacking: (Uint32Array | null | undefined)[] = [undefined];
  private readonly slotBackingOffset: number[] = [0];
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

  /** Firmware-reserved memory at `base` (not System RAM, so ioremap() maps it): accesses read and write `words`. */
  attachReserved(base: number, words: Uint32Array): void {
    this.reserved.push({ base, words });
  }

  /** What a read from an address no device decodes returns on this platform. */
  setUndecodedRead(value: number): void {
    this.undecodedValue = value >>> 0;
  }

  /**
   * ioremap(): a mapping of [pa, pa + size), whether or not a device decodes it
   * (the kernel maps anything that is not System RAM); 0 only when the range does
   * not fit one page or the model's mapping table is full.
   */
  ioremap(pa: number, size: number): number {
    if (size > PAGE_MASK + 1 || this.nextSlot >= MAX_SLOTS) return 0;
    const range = this.ranges.find((r) => pa >= r.base && pa + size <= r.base + r.size);
    const slot = this.nextSlot++;
    if (slot === this.slotLimit.length) this.growSlots();
    if (range) {
      this.slotDevice[slot] = range.device;
      this.slotDeviceOffset[slot] = pa - range.base;
      this.slotBacking[slot] = undefined;
    } else {
      const ram = this.reserved.find((r) => pa >= r.base && pa + size <= r.base + r.words.length * 4);
      this.slotDevice[slot] = undefined;
      this.slotBacking[slot] = ram ? ram.words : null;
      this.slotBackingOffset[slot] = ram ? pa - ram.base : 0;
    }
    this.slotPhys[slot] = pa;
    this.slotLimit[slot] = size;
    this.recorder?.record(MMIO_MAP, this.clock.now, pa, size, slot);
    return slot << PAGE_SHIFT;
  }

  iounmap(va: number): void {
    const slot = va >>> PAGE_SHIFT;
    if (!this.mapped(slot)) throw new BusFault(`iounmap of unmapped address 0x${va.toString(16)}`);
    this.recorder?.record(MMIO_UNMAP, this.clock.now, this.slotPhys[slot]!, 0, slot);
    this.slotDevice[slot] = undefined;
    this.slotBacking[slot] = undefined;
    if (slot === this.hotSlot) {
      this.hotSlot = -1;
      this.hotDevice = undefined;
    }
  }

  readl(va: number): number {
    const slot = va >>> PAGE_SHIFT;
    const off = va & PAGE_MASK;
    if (slot !== this.hotSlot || off >= this.hotLimit) {
      if (!this.select(slot, off, va, 'read')) return this.readBacking(slot, off);
    }
    this.clock.now += this.readNs;
    const value = this.hotDevice!.read32(this.hotDeviceOffset + off) >>> 0;
    if (this.recorder !== undefined)
      this.recorder.record(MMIO_READ, this.clock.now, this.slotPhys[slot]! + off, value, slot);
    return value;
  }

  writel(value: number, va: number): void {
    const slot = va >>> PAGE_SHIFT;
    const off = va & PAGE_MASK;
    if (slot !== this.hotSlot || off >= this.hotLimit) {
      if (!this.select(slot, off, va, 'write')) {
        this.writeBacking(slot, off, value);
        return;
      }
    }
    this.clock.now += this.writeNs;
    if (this.recorder !== undefined)
      this.recorder.record(MMIO_WRITE, this.clock.now, this.slotPhys[slot]! + off, value >>> 0, slot);
    this.hotDevice!.write32(this.hotDeviceOffset + off, value >>> 0);
  }

  /**
   * writesl()/iowrite32_rep(): `count` dwords of `src` from index `from`, each
   * written to `va` in order. The effect is that of `count` writel() calls,
   * byte for byte: the same device state, clock, faults and misuse reports.
   * Without a recorder the device takes the run of dwords it can take as one
   * block (a few array copies instead of a call per dword) and the clock is
   * charged for them at once; every other dword, and every dword while an
   * mmiotrace is recording, goes through writel().
   */
  writesl(va: number, src: Uint32Array, from: number, count: number): void {
    const end = from + count;
    if (!(Number.isInteger(from) && Number.isInteger(count) && from >= 0 && end <= src.length))
      throw new RangeError(`writesl of dwords ${from}..${end} of ${src.length}`);
    let i = from;
    if (this.recorder === undefined && count > 0) {
      const slot = va >>> PAGE_SHIFT;
      const off = va & PAGE_MASK;
      if ((slot === this.hotSlot && off < this.hotLimit) || this.select(slot, off, va, 'write')) {
        const taken = this.hotDevice!.writeBlock(this.hotDeviceOffset + off, src, from, count);
        if (taken > 0) {
          this.chargeWrites(taken);
          i += taken;
        }
      }
    }
    for (; i < end; i++) this.writel(src[i]!, va);
  }

  /**
   * The clock after `n` writes, as `n` additions of the write cost would leave
   * it: one multiplication when every partial sum is an integer float64 holds
   * exactly (the default costs), else the additions themselves.
   */
  private chargeWrites(n: number): void {
    const now = this.clock.now;
    const w = this.writeNs;
    const after = now + n * w;
    if (Number.isInteger(w) && Number.isInteger(now) && Number.isSafeInteger(after)) {
      this.clock.now = after;
      return;
    }
    let t = now;
    for (let k = 0; k < n; k++) t += w;
    this.clock.now = t;
  }

  /**
   * Slow path of an access: check the mapping and make a device mapping the hot
   * one (true), or report a mapping no device decodes (false), or fault.
   */
  private select(slot: number, off: number, va: number, what: 'read' | 'write'): boolean {
    if (!this.mapped(slot) || off >= this.slotLimit[slot]!) throw this.fault(what, va);
    const device = this.slotDevice[slot];
    if (device === undefined) return false;
    this.hotSlot = slot;
    this.hotDevice = device;
    this.hotDeviceOffset = this.slotDeviceOffset[slot]!;
    this.hotLimit = this.slotLimit[slot]!;
    return true;
  }

  private mapped(slot: number): boolean {
    return this.slotDevice[slot] !== undefined || this.slotBacking[slot] !== undefined;
  }

  /** A read no device answers: reserved memory's dword, or the platform's undecoded value. */
  private readBacking(slot: number, off: number): number {
    this.clock.now += this.readNs;
    const words = this.slotBacking[slot];
    const at = this.slotBackingOffset[slot]! + off;
    const value = words ? (words[at >>> 2] ?? this.undecodedValue) >>> 0 : this.undecodedValue;
    this.recorder?.record(MMIO_READ, this.clock.now, this.slotPhys[slot]! + off, value, slot);
    return value;
  }

  private writeBacking(slot: number, off: number, value: number): void {
    this.clock.now += this.writeNs;
    this.recorder?.record(MMIO_WRITE, this.clock.now, this.slotPhys[slot]! + off, value >>> 0, slot);
    const words = this.slotBacking[slot];
    const at = this.slotBackingOffset[slot]! + off;
    if (words && at >>> 2 < words.length) words[at >>> 2] = value >>> 0;
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
