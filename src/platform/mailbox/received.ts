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

  /** Whether any byte of [start, end) has been received. */
  overlaps(start: number, end: number): boolean {
    const b = this.bounds;
    for (let i = 0; i < b.length; i += 2) if (b[i]! < end && start < b[i + 1]!) return true;
    return false;
  }

  /** Whether every byte of [start, end) has been received. */
  covers(start: number, end: number): boolean {
    const b = this.bounds;
    for (let i = 0; i < b.length; i += 2) if (b[i]! <= start && end <= b[i + 1]!) return true;
    return false;
  }

  /** Calls `fill(from, to)` for each part of [0, length) not received. */
  forEachGap(length: number, fill: (from: number, to: number) => void): void {
    const b = this.bounds;
    let at = 0;
    for (let i = 0; i < b.length && at < length; i += 2) {
      if (b[i]! > at) fill(at, Math.min(b[i]!, length));
      at = Math.max(at, b[i + 1]!);
    }
    if (at < length) fill(at, length);
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
    const n = b.length;
    if (n === 0) {
      b.push(start, end);
      return;
    }
    // A chunk that starts within or right at the end of the last range (an in-order transfer) extends it.
    if (start >= b[n - 2]! && start <= b[n - 1]!) {
      if (end > b[n - 1]!) b[n - 1] = end;
      return;
    }
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
