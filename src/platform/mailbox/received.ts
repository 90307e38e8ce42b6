/**
 * The byte ranges of an image a device has received, as sorted, disjoint,
 * merged [start, end) pairs. A well-behaved transfer is one range growing from
 * 0; re-requests and scripted offsets can leave holes.
 */
export class ReceivedRanges {
  /** start0, end0, start1, end1, ... */
  private readonly bounds: number[] = [];

  clear(): void {
    this.bounds.length = 0;
  }

  /** Whether byte `offset` has been received. */
  has(offset: number): boolean {
    const b = this.bounds;
    for (let i = 0; i < b.length; i += 2) if (offset >= b[i]! && offset < b[i + 1]!) return true;
    return false;
  }

  /** Calls `check(from, to)` for each part of [start, end) received before; false as soon as one returns false. */
  everyOverlap(start: number, end: number, check: (from: number, to: number) => boolean): boolean {
    const b = this.bounds;
    for (let i = 0; i < b.length; i += 2) {
      const from = Math.max(start, b[i]!);
      const to = Math.min(end, b[i + 1]!);
      if (from < to && !check(from, to)) return false;
    }
    return true;
  }

  add(start: number, end: number): void {
    if (end <= start) return;
    const b = this.bounds;
    const out: number[] = [];
    let s = start;
    let e = end;
    let placed = false;
    for (let i = 0; i < b.length; i += 2) {
      const bs = b[i]!;
      const be = b[i + 1]!;
      if (be < s) out.push(bs, be);
      else if (bs > e) {
        if (!placed) {
          out.push(s, e);
          placed = true;
        }
        out.push(bs, be);
      } else {
        s = Math.min(s, bs);
        e = Math.max(e, be);
      }
    }
    if (!placed) out.push(s, e);
    b.length = 0;
    for (const x of out) b.push(x);
  }
}
