/**
 * Emulated physical memory holding the kernel's buffers (the microcode image
 * the driver hands to MSR 0x79). Regions reference the caller's bytes: placing
 * a 3 MB image copies nothing.
 */
export class PhysicalMemory {
  private readonly regions: { base: number; bytes: Uint8Array }[] = [];
  // Above 4 GB and page aligned, like a vmalloc'ed buffer's backing pages.
  private next = 0x1_0000_0000;
  /** Changes whenever a region is placed or released (for answers cached per address). */
  generation = 0;

  place(bytes: Uint8Array): number {
    this.generation++;
    const base = this.next;
    this.regions.push({ base, bytes });
    this.next = base + Math.ceil(Math.max(bytes.length, 1) / 4096) * 4096 + 4096;
    return base;
  }

  release(base: number): void {
    const i = this.regions.findIndex((r) => r.base === base);
    if (i >= 0) {
      this.regions.splice(i, 1);
      this.generation++;
    }
  }

  /** The bytes at [pa, pa+length), or undefined if not backed by one region. */
  view(pa: number, length: number): Uint8Array | undefined {
    for (const r of this.regions) {
      if (pa >= r.base && pa + length <= r.base + r.bytes.length) {
        return r.bytes.subarray(pa - r.base, pa - r.base + length);
      }
    }
    return undefined;
  }

  /** The bytes from `pa` to the end of its region (the CPU reads the length from the header it finds). */
  viewFrom(pa: number): Uint8Array | undefined {
    for (const r of this.regions) {
      if (pa >= r.base && pa < r.base + r.bytes.length) return r.bytes.subarray(pa - r.base);
    }
    return undefined;
  }
}
